//! GetBatch: one batch with the errors of its items and its environment.

use std::sync::Arc;

use tracing::Instrument;

use super::hydration::record_environment;
use crate::batch::{BatchDetailRecord, BatchLookup};
use crate::control_plane::Environment;
use crate::error::{Error, Resource, Result};
use crate::ids::{BatchId, EnvironmentId};
use crate::ports::{ControlPlane, RunOpsStores};

/// How much of a batch to return (AIP-157).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BatchViewKind {
    /// Without the run ids, which grow with the batch and which the dashboard does not show.
    #[default]
    Basic,
    /// With the run ids, as the public retrieve API returns them.
    Full,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GetBatchQuery {
    pub environment_id: EnvironmentId,
    pub batch_id: BatchId,
    pub view: BatchViewKind,
}

/// The batch as GetBatch returns it.
#[derive(Clone, Debug)]
pub struct BatchDetail {
    pub record: BatchDetailRecord,
    pub environment: Arc<Environment>,
}

/// The GetBatch presenter.
pub struct GetBatch<S, C> {
    stores: Arc<S>,
    control_plane: Arc<C>,
}

impl<S: RunOpsStores, C: ControlPlane> GetBatch<S, C> {
    pub fn new(stores: Arc<S>, control_plane: Arc<C>) -> Self {
        Self {
            stores,
            control_plane,
        }
    }

    pub async fn present(&self, query: GetBatchQuery) -> Result<BatchDetail> {
        let not_found = || Error::not_found(Resource::Batch, query.batch_id.friendly());
        let lookup = BatchLookup {
            environment_id: query.environment_id.clone(),
            batch_id: query.batch_id.clone(),
            include_run_ids: query.view == BatchViewKind::Full,
        };
        let record = self
            .stores
            .find_batch(&lookup)
            .instrument(tracing::debug_span!("primary_query"))
            .await?
            .ok_or_else(not_found)?;
        let environment = record_environment(
            self.control_plane.as_ref(),
            &query.environment_id,
            not_found,
        )
        .instrument(tracing::debug_span!("hydrate"))
        .await?;
        Ok(BatchDetail {
            record,
            environment,
        })
    }
}
