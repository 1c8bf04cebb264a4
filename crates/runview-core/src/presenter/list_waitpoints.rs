//! ListWaitpoints: one page of the environment's waitpoint tokens across the stores, each with its
//! signed callback URL.

use std::sync::Arc;

use serde::Serialize;
use tracing::Instrument;

use super::WaitpointView;
use super::hydration::caller_environment;
use super::paging::{ListPage, Paging, TimeFingerprint};
use crate::error::Result;
use crate::filter::{WaitpointAttributes, WaitpointFilter, WaitpointListQuery};
use crate::ids::EnvironmentId;
use crate::page::{Keyset, Scan, TimeFilter};
use crate::page_token::{PageTokenSigner, TokenScope};
use crate::ports::{ControlPlane, RunOpsStores};
use crate::status::StatusFilterMode;
use crate::tags::sort_tags;
use crate::waitpoint::{WaitpointStatus, callback_url, matched_token_statuses};

#[derive(Clone, Debug, PartialEq)]
pub struct ListWaitpointsQuery {
    pub environment_id: EnvironmentId,
    pub page_size: usize,
    pub page_token: Option<String>,
    pub statuses: Vec<WaitpointStatus>,
    pub status_filter_mode: StatusFilterMode,
    pub time: TimeFilter,
    pub attributes: WaitpointAttributes,
}

#[derive(Clone, Debug)]
pub struct WaitpointListPage {
    /// Without output; tags sorted as the upstream's list sorts them.
    pub page: ListPage<WaitpointView>,
    pub has_any_tokens: bool,
}

pub struct ListWaitpoints<S, C> {
    stores: Arc<S>,
    control_plane: Arc<C>,
    signer: Arc<PageTokenSigner>,
    callback_base_url: String,
    scan_budget: usize,
}

impl<S: RunOpsStores, C: ControlPlane> ListWaitpoints<S, C> {
    pub fn new(
        stores: Arc<S>,
        control_plane: Arc<C>,
        signer: Arc<PageTokenSigner>,
        callback_base_url: String,
        scan_budget: usize,
    ) -> Self {
        Self {
            stores,
            control_plane,
            signer,
            callback_base_url,
            scan_budget,
        }
    }

    pub async fn present(&self, query: ListWaitpointsQuery) -> Result<WaitpointListPage> {
        let scope = TokenScope::new(query.environment_id.as_str(), &Fingerprint::of(&query));
        // Tokens have no default window: without a time filter the whole history is listed.
        let paging = Paging::start(
            &self.signer,
            scope,
            query.page_token.as_deref(),
            query.page_size,
            |now| query.time.resolve_without_default(now),
        )?;
        let list = WaitpointListQuery {
            environment_id: query.environment_id.clone(),
            filter: WaitpointFilter {
                statuses: matched_token_statuses(&query.statuses, query.status_filter_mode),
                window: paging.window,
                attributes: query.attributes.clone(),
            },
            page: paging.request.clone(),
            scan_budget: self.scan_budget,
        };
        let scan = self
            .stores
            .list_waitpoints(&list)
            .instrument(tracing::debug_span!("primary_query"))
            .await?;
        // A page with a token answers "has any" by itself; only an empty page asks every store.
        let has_any_tokens =
            !scan.rows.is_empty() || self.stores.has_any_tokens(&query.environment_id).await?;
        let views = if scan.rows.is_empty() {
            Vec::new()
        } else {
            let environment =
                caller_environment(self.control_plane.as_ref(), &query.environment_id)
                    .instrument(tracing::debug_span!("hydrate"))
                    .await?;
            scan.rows
                .into_iter()
                .map(|mut record| {
                    sort_tags(&mut record.tags);
                    WaitpointView {
                        status: record.status(),
                        url: callback_url(
                            &self.callback_base_url,
                            &record.id,
                            &environment.signing_key,
                        ),
                        output: None,
                        record,
                    }
                })
                .collect()
        };
        let scan = Scan {
            rows: views,
            stopped_at: scan.stopped_at,
        };
        Ok(WaitpointListPage {
            page: paging.finish(scan, |view| Keyset {
                created_at: view.record.created_at,
                id: view.record.id.as_str().to_owned(),
            }),
            has_any_tokens,
        })
    }
}

/// Every filter of the request, as a token binds them (page size is deliberately absent).
#[derive(Serialize)]
struct Fingerprint<'a> {
    statuses: &'a [WaitpointStatus],
    status_filter_mode: StatusFilterMode,
    time: TimeFingerprint,
    attributes: &'a WaitpointAttributes,
}

impl<'a> Fingerprint<'a> {
    /// Names every field of the query, so that a new one cannot be left out unnoticed.
    fn of(query: &'a ListWaitpointsQuery) -> Self {
        let ListWaitpointsQuery {
            // The scope binds the environment by itself; page size may change between pages; the
            // token is what the scope verifies.
            environment_id: _,
            page_size: _,
            page_token: _,
            statuses,
            status_filter_mode,
            time,
            attributes,
        } = query;
        Self {
            statuses,
            status_filter_mode: *status_filter_mode,
            time: TimeFingerprint::from(time),
            attributes,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::ids::WaitpointId;
    use crate::presenter::paging::one_time_filter_each;

    fn unfiltered() -> ListWaitpointsQuery {
        ListWaitpointsQuery {
            environment_id: EnvironmentId::parse("cm0env0000000000000000001").expect("valid"),
            page_size: 25,
            page_token: None,
            statuses: Vec::new(),
            status_filter_mode: StatusFilterMode::Upstream,
            time: TimeFilter::default(),
            attributes: WaitpointAttributes::default(),
        }
    }

    fn digest(query: &ListWaitpointsQuery) -> String {
        TokenScope::new(query.environment_id.as_str(), &Fingerprint::of(query)).filter_digest
    }

    #[test]
    fn every_filter_changes_the_token_scope() {
        // Named without `..`: a new attribute does not compile here until it is covered.
        let WaitpointAttributes {
            tags,
            idempotency_key,
            waitpoint_id,
        } = WaitpointAttributes {
            tags: vec!["user:1".into()],
            idempotency_key: Some("key".into()),
            waitpoint_id: Some(WaitpointId::from_stored("cwait0000000000000000001")),
        };
        let by_attribute = [
            WaitpointAttributes {
                tags,
                ..WaitpointAttributes::default()
            },
            WaitpointAttributes {
                idempotency_key,
                ..WaitpointAttributes::default()
            },
            WaitpointAttributes {
                waitpoint_id,
                ..WaitpointAttributes::default()
            },
        ]
        .map(|attributes| ListWaitpointsQuery {
            attributes,
            ..unfiltered()
        });
        let times = one_time_filter_each().map(|time| ListWaitpointsQuery {
            time,
            ..unfiltered()
        });
        let by_status = ListWaitpointsQuery {
            statuses: vec![WaitpointStatus::TimedOut],
            ..unfiltered()
        };
        let by_mode = ListWaitpointsQuery {
            status_filter_mode: StatusFilterMode::Complete,
            ..unfiltered()
        };
        let queries: Vec<ListWaitpointsQuery> = by_attribute
            .into_iter()
            .chain(times)
            .chain([by_status, by_mode, unfiltered()])
            .collect();
        let digests: HashSet<String> = queries.iter().map(digest).collect();
        assert_eq!(digests.len(), queries.len());
    }

    #[test]
    fn page_size_and_token_leave_the_token_scope_alone() {
        let next_page = ListWaitpointsQuery {
            page_size: 100,
            page_token: Some("token".into()),
            ..unfiltered()
        };
        assert_eq!(digest(&next_page), digest(&unfiltered()));
    }
}
