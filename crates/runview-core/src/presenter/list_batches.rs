//! ListBatches: one keyset page of batches across the stores, optionally with their runs'
//! counts aggregated over every store.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;
use tracing::Instrument;

use super::hydration::caller_environment;
use super::paging::{ListPage, Paging};
use crate::batch::{BatchRecord, BatchStatus};
use crate::control_plane::Environment;
use crate::error::Result;
use crate::filter::{BatchFilter, BatchListQuery};
use crate::ids::{BatchId, EnvironmentId};
use crate::page::{Keyset, TimeFilter};
use crate::page_token::{PageTokenSigner, TokenScope};
use crate::ports::{ControlPlane, RunOpsStores};
use crate::status::TaskRunStatus;

#[derive(Clone, Debug, PartialEq)]
pub struct ListBatchesQuery {
    pub environment_id: EnvironmentId,
    pub page_size: usize,
    pub page_token: Option<String>,
    pub statuses: Vec<BatchStatus>,
    pub batch_id: Option<BatchId>,
    pub time: TimeFilter,
    pub include_run_counts: bool,
}

#[derive(Clone, Debug)]
pub struct BatchListItem {
    pub record: BatchRecord,
    pub environment: Arc<Environment>,
    /// With `include_run_counts`: stored run status → count over every store.
    pub run_counts: Option<HashMap<TaskRunStatus, i64>>,
}

#[derive(Clone, Debug)]
pub struct BatchListPage {
    pub page: ListPage<BatchListItem>,
    pub has_any_batches: bool,
}

pub struct ListBatches<S, C> {
    stores: Arc<S>,
    control_plane: Arc<C>,
    signer: Arc<PageTokenSigner>,
}

impl<S: RunOpsStores, C: ControlPlane> ListBatches<S, C> {
    pub fn new(stores: Arc<S>, control_plane: Arc<C>, signer: Arc<PageTokenSigner>) -> Self {
        Self {
            stores,
            control_plane,
            signer,
        }
    }

    pub async fn present(&self, query: ListBatchesQuery) -> Result<BatchListPage> {
        let scope = TokenScope::new(query.environment_id.as_str(), &Fingerprint::of(&query));
        let paging = Paging::start(
            &self.signer,
            scope,
            query.page_token.as_deref(),
            &query.time,
            query.page_size,
        )?;
        let list = BatchListQuery {
            environment_id: query.environment_id.clone(),
            filter: BatchFilter {
                statuses: query.statuses.clone(),
                batch_id: query.batch_id.clone(),
                window: paging.window,
            },
            page: paging.request.clone(),
        };
        let rows = self
            .stores
            .list_batches(&list)
            .instrument(tracing::debug_span!("primary_query"))
            .await?;
        // A page with a batch answers "has any" by itself; only an empty page asks every store.
        let has_any_batches =
            !rows.is_empty() || self.stores.has_any_batches(&query.environment_id).await?;
        let mut counts = if query.include_run_counts && !rows.is_empty() {
            let ids: Vec<BatchId> = rows.iter().map(|batch| batch.id.clone()).collect();
            Some(
                self.stores
                    .count_batch_runs(&query.environment_id, &ids)
                    .instrument(tracing::debug_span!("run_counts"))
                    .await?,
            )
        } else {
            None
        };
        let items = if rows.is_empty() {
            Vec::new()
        } else {
            let environment =
                caller_environment(self.control_plane.as_ref(), &query.environment_id)
                    .instrument(tracing::debug_span!("hydrate"))
                    .await?;
            rows.into_iter()
                .map(|record| BatchListItem {
                    run_counts: counts
                        .as_mut()
                        .map(|counts| counts.remove(&record.id).unwrap_or_default()),
                    record,
                    environment: environment.clone(),
                })
                .collect()
        };
        Ok(BatchListPage {
            page: paging.finish(items, |item| Keyset {
                created_at: item.record.created_at,
                id: item.record.id.as_str().to_owned(),
            }),
            has_any_batches,
        })
    }
}

/// Every filter of the request, as a token binds them.
#[derive(Serialize)]
struct Fingerprint<'a> {
    statuses: &'a [BatchStatus],
    batch_id: Option<&'a str>,
    created_after: Option<i64>,
    created_before: Option<i64>,
    period_ms: Option<i64>,
    include_run_counts: bool,
}

impl<'a> Fingerprint<'a> {
    fn of(query: &'a ListBatchesQuery) -> Self {
        Self {
            statuses: &query.statuses,
            batch_id: query.batch_id.as_ref().map(BatchId::as_str),
            created_after: query.time.created_after.map(|at| at.timestamp_millis()),
            created_before: query.time.created_before.map(|at| at.timestamp_millis()),
            period_ms: query.time.period.map(|period| period.num_milliseconds()),
            include_run_counts: query.include_run_counts,
        }
    }
}
