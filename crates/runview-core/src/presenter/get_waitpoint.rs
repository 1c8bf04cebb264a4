//! GetWaitpoint: a waitpoint token with its signed callback URL.

use std::sync::Arc;

use tracing::Instrument;

use super::hydration::record_environment;
use crate::error::{Error, Resource, Result};
use crate::ids::{EnvironmentId, WaitpointId};
use crate::packet::Packet;
use crate::ports::{ControlPlane, RunOpsStores};
use crate::waitpoint::{WaitpointRecord, WaitpointStatus, callback_url};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GetWaitpointQuery {
    pub environment_id: EnvironmentId,
    pub waitpoint_id: WaitpointId,
}

#[derive(Clone, Debug)]
pub struct WaitpointView {
    pub record: WaitpointRecord,
    pub status: WaitpointStatus,
    pub url: String,
    /// The output, as an object key when it lives in object storage.
    pub output: Option<Packet>,
}

pub struct GetWaitpoint<S, C> {
    stores: Arc<S>,
    control_plane: Arc<C>,
    callback_base_url: String,
}

impl<S: RunOpsStores, C: ControlPlane> GetWaitpoint<S, C> {
    pub fn new(stores: Arc<S>, control_plane: Arc<C>, callback_base_url: String) -> Self {
        Self {
            stores,
            control_plane,
            callback_base_url,
        }
    }

    pub async fn present(&self, query: GetWaitpointQuery) -> Result<WaitpointView> {
        let not_found = || Error::not_found(Resource::Waitpoint, query.waitpoint_id.friendly());
        let record = self
            .stores
            .find_waitpoint(&query.environment_id, &query.waitpoint_id)
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
        let output = record.output.clone().map(|data| {
            Packet {
                data,
                data_type: record.output_type.clone(),
            }
            .with_object_key(&environment.project_ref, &environment.slug)
        });
        Ok(WaitpointView {
            status: record.status(),
            url: callback_url(
                &self.callback_base_url,
                &record.id,
                &environment.signing_key,
            ),
            output,
            record,
        })
    }
}
