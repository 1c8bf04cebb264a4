//! What the lists share: turning a request's page token (or time filters) into the scan the stores
//! run, and what they return into a page with signed neighbour tokens.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use crate::error::Result;
use crate::page::{self, Keyset, PageRequest, Scan, TimeFilter, TimeWindow};
use crate::page_token::{PagePosition, PageTokenSigner, TokenScope};

/// The window lists default to when a request has no time filter at all.
pub const DEFAULT_LIST_PERIOD: TimeDelta = TimeDelta::days(7);

/// One list request's paging state.
pub(crate) struct Paging<'a> {
    signer: &'a PageTokenSigner,
    scope: TokenScope,
    now: DateTime<Utc>,
    page_size: usize,
    pub window: TimeWindow,
    pub request: PageRequest,
}

/// A page with its neighbours' tokens; both are absent at the ends of the collection.
#[derive(Clone, Debug)]
pub struct ListPage<T> {
    pub items: Vec<T>,
    pub next_page_token: Option<String>,
    pub previous_page_token: Option<String>,
}

impl<'a> Paging<'a> {
    /// A token carries the window its first page resolved, so later pages read the same window
    /// however much time passed; without one, `resolve_window` resolves the request's time
    /// filters against now.
    pub fn start(
        signer: &'a PageTokenSigner,
        scope: TokenScope,
        page_token: Option<&str>,
        page_size: usize,
        resolve_window: impl FnOnce(DateTime<Utc>) -> Result<TimeWindow>,
    ) -> Result<Self> {
        let now = Utc::now();
        let (cursor, window) = match page_token {
            Some(token) => {
                let position = signer.verify(token, &scope, now)?;
                (Some(position.cursor), position.window)
            }
            None => (None, resolve_window(now)?),
        };
        Ok(Self {
            signer,
            scope,
            now,
            page_size,
            window,
            request: PageRequest::for_page(cursor, page_size),
        })
    }

    pub fn finish<T>(&self, scan: Scan<T>, key: impl Fn(&T) -> Keyset) -> ListPage<T> {
        let page = page::assemble(scan, &self.request, self.page_size, key);
        let token = |keyset: Keyset, direction| {
            let position = PagePosition {
                cursor: page::Cursor { keyset, direction },
                window: self.window,
            };
            self.signer.sign(&self.scope, &position, self.now)
        };
        ListPage {
            next_page_token: page
                .next
                .map(|keyset| token(keyset, page::Direction::Forward)),
            previous_page_token: page
                .previous
                .map(|keyset| token(keyset, page::Direction::Backward)),
            items: page.items,
        }
    }
}

/// A request's time filters as a page token's fingerprint binds them, in milliseconds.
#[derive(Serialize)]
pub(crate) struct TimeFingerprint {
    created_after: Option<i64>,
    created_before: Option<i64>,
    period_ms: Option<i64>,
}

impl From<&TimeFilter> for TimeFingerprint {
    fn from(time: &TimeFilter) -> Self {
        Self {
            created_after: time.created_after.map(|at| at.timestamp_millis()),
            created_before: time.created_before.map(|at| at.timestamp_millis()),
            period_ms: time.period.map(|period| period.num_milliseconds()),
        }
    }
}

/// Time filters that each set one field, for tests that every filter changes a fingerprint.
#[cfg(test)]
pub(crate) fn one_time_filter_each() -> [TimeFilter; 3] {
    let at = DateTime::<Utc>::UNIX_EPOCH;
    [
        TimeFilter {
            created_after: Some(at),
            ..TimeFilter::default()
        },
        TimeFilter {
            created_before: Some(at),
            ..TimeFilter::default()
        },
        TimeFilter {
            period: Some(TimeDelta::hours(1)),
            ..TimeFilter::default()
        },
    ]
}
