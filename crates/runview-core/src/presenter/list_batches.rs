//! ListBatches: one keyset page of batches across the stores, optionally with their runs'
//! counts aggregated over every store.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;
use tracing::Instrument;

use super::hydration::caller_environment;
use super::paging::{DEFAULT_LIST_PERIOD, ListPage, Paging, TimeFingerprint};
use crate::batch::BatchRecord;
use crate::control_plane::Environment;
use crate::error::Result;
use crate::filter::{BatchAttributes, BatchFilter, BatchListQuery};
use crate::ids::{BatchId, EnvironmentId};
use crate::page::{Keyset, Scan, TimeFilter};
use crate::page_token::{PageTokenSigner, TokenScope};
use crate::ports::{ControlPlane, RunOpsStores};
use crate::status::TaskRunStatus;

#[derive(Clone, Debug, PartialEq)]
pub struct ListBatchesQuery {
    pub environment_id: EnvironmentId,
    pub page_size: usize,
    pub page_token: Option<String>,
    pub time: TimeFilter,
    pub include_run_counts: bool,
    pub attributes: BatchAttributes,
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
    scan_budget: usize,
}

impl<S: RunOpsStores, C: ControlPlane> ListBatches<S, C> {
    pub fn new(
        stores: Arc<S>,
        control_plane: Arc<C>,
        signer: Arc<PageTokenSigner>,
        scan_budget: usize,
    ) -> Self {
        Self {
            stores,
            control_plane,
            signer,
            scan_budget,
        }
    }

    pub async fn present(&self, query: ListBatchesQuery) -> Result<BatchListPage> {
        let scope = TokenScope::new(query.environment_id.as_str(), &Fingerprint::of(&query));
        let paging = Paging::start(
            &self.signer,
            scope,
            query.page_token.as_deref(),
            query.page_size,
            |now| query.time.resolve(now, DEFAULT_LIST_PERIOD),
        )?;
        let list = BatchListQuery {
            environment_id: query.environment_id.clone(),
            filter: BatchFilter {
                window: paging.window,
                attributes: query.attributes.clone(),
            },
            page: paging.request.clone(),
            scan_budget: self.scan_budget,
        };
        let Scan { rows, stopped_at } = self
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
            page: paging.finish(
                Scan {
                    rows: items,
                    stopped_at,
                },
                |item| Keyset {
                    created_at: item.record.created_at,
                    id: item.record.id.as_str().to_owned(),
                },
            ),
            has_any_batches,
        })
    }
}

/// Every filter of the request, as a token binds them (page size is deliberately absent).
#[derive(Serialize)]
struct Fingerprint<'a> {
    time: TimeFingerprint,
    include_run_counts: bool,
    attributes: &'a BatchAttributes,
}

impl<'a> Fingerprint<'a> {
    /// Names every field of the query, so that a new one cannot be left out unnoticed.
    fn of(query: &'a ListBatchesQuery) -> Self {
        let ListBatchesQuery {
            // The scope binds the environment by itself; page size may change between pages; the
            // token is what the scope verifies.
            environment_id: _,
            page_size: _,
            page_token: _,
            time,
            include_run_counts,
            attributes,
        } = query;
        Self {
            time: TimeFingerprint::from(time),
            include_run_counts: *include_run_counts,
            attributes,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::batch::BatchStatus;
    use crate::presenter::paging::one_time_filter_each;

    fn unfiltered() -> ListBatchesQuery {
        ListBatchesQuery {
            environment_id: EnvironmentId::parse("cm0env0000000000000000001").expect("valid"),
            page_size: 25,
            page_token: None,
            time: TimeFilter::default(),
            include_run_counts: false,
            attributes: BatchAttributes::default(),
        }
    }

    fn digest(query: &ListBatchesQuery) -> String {
        TokenScope::new(query.environment_id.as_str(), &Fingerprint::of(query)).filter_digest
    }

    #[test]
    fn every_filter_changes_the_token_scope() {
        // Named without `..`: a new attribute does not compile here until it is covered.
        let BatchAttributes { statuses, batch_id } = BatchAttributes {
            statuses: vec![BatchStatus::Processing],
            batch_id: Some(BatchId::from_stored("cbatch0000000000000000001")),
        };
        let by_attribute = [
            BatchAttributes {
                statuses,
                ..BatchAttributes::default()
            },
            BatchAttributes {
                batch_id,
                ..BatchAttributes::default()
            },
        ]
        .map(|attributes| ListBatchesQuery {
            attributes,
            ..unfiltered()
        });
        let times = one_time_filter_each().map(|time| ListBatchesQuery {
            time,
            ..unfiltered()
        });
        let with_run_counts = ListBatchesQuery {
            include_run_counts: true,
            ..unfiltered()
        };
        let queries: Vec<ListBatchesQuery> = by_attribute
            .into_iter()
            .chain(times)
            .chain([with_run_counts, unfiltered()])
            .collect();
        let digests: HashSet<String> = queries.iter().map(digest).collect();
        assert_eq!(digests.len(), queries.len());
    }

    #[test]
    fn page_size_and_token_leave_the_token_scope_alone() {
        let next_page = ListBatchesQuery {
            page_size: 100,
            page_token: Some("token".into()),
            ..unfiltered()
        };
        assert_eq!(digest(&next_page), digest(&unfiltered()));
    }
}
