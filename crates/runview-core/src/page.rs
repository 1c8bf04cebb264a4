//! Keyset pages: page sizes, cursors, and turning the rows a store returned (one more than asked,
//! to know whether more exist) into a page. Runs and batches are ordered by (createdAt DESC,
//! id DESC), waitpoint tokens by id DESC alone; every position carries both, and each list's
//! statement compares what its order is made of.

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};

pub const DEFAULT_PAGE_SIZE: usize = 25;
pub const MAX_PAGE_SIZE: usize = 100;

/// The rows a filtered list reads per store for one page, unless configured otherwise: a few
/// milliseconds of walking, and enough that common filter values fill a page in one call.
pub const DEFAULT_SCAN_BUDGET: usize = 10_000;

/// 0 means the default; above the maximum is coerced down; negative is refused.
pub fn page_size(requested: i32) -> Result<usize> {
    match usize::try_from(requested) {
        Ok(0) => Ok(DEFAULT_PAGE_SIZE),
        Ok(size) => Ok(size.min(MAX_PAGE_SIZE)),
        Err(_) => Err(Error::invalid_argument("page_size", "must not be negative")),
    }
}

/// A position in the order: the createdAt and internal id of a record.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Keyset {
    pub created_at: DateTime<Utc>,
    pub id: String,
}

impl Keyset {
    /// A position past every record a page walking in `direction` can reach: older than any
    /// record for [`Direction::Forward`], newer than any for [`Direction::Backward`]. A cursor
    /// there reads from the far end back toward the other.
    fn far_end(direction: Direction) -> Self {
        let (created_at, id) = match direction {
            // No stored id sorts below the empty string.
            Direction::Forward => ("0001-01-01T00:00:00Z", ""),
            // Stored ids are ASCII letters, digits and `_`, all below `~`.
            Direction::Backward => ("9999-12-31T23:59:59.999Z", "~"),
        };
        Self {
            created_at: created_at.parse().expect("a valid timestamp"),
            id: id.to_owned(),
        }
    }
}

/// Which way a page reads from its cursor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Toward older records: keys below the cursor, newest first.
    Forward,
    /// Toward newer records: keys above the cursor, oldest first.
    Backward,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub keyset: Keyset,
    pub direction: Direction,
}

/// What a store scans: from the cursor (or the newest record) in its direction, at most `limit`
/// rows in scan order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub cursor: Option<Cursor>,
    pub limit: usize,
}

impl PageRequest {
    /// Asks for one row more than the page holds, so the page knows whether more exist.
    pub fn for_page(cursor: Option<Cursor>, page_size: usize) -> Self {
        Self {
            cursor,
            limit: page_size + 1,
        }
    }

    pub fn direction(&self) -> Direction {
        self.cursor
            .as_ref()
            .map_or(Direction::Forward, |cursor| cursor.direction)
    }
}

/// What a store scan returned, in scan order. A scan that spends its budget of examined rows
/// before it fills the page stops early: `stopped_at` is the last position it examined, rows
/// beyond it were not looked at, and the page continues from there.
#[derive(Clone, Debug, PartialEq)]
pub struct Scan<T> {
    pub rows: Vec<T>,
    pub stopped_at: Option<Keyset>,
}

impl<T> Scan<T> {
    /// A scan that examined everything up to its last row.
    pub fn complete(rows: Vec<T>) -> Self {
        Self {
            rows,
            stopped_at: None,
        }
    }
}

impl<T> From<Vec<T>> for Scan<T> {
    fn from(rows: Vec<T>) -> Self {
        Self::complete(rows)
    }
}

/// One page, newest first, with the positions the neighbouring pages start from.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Older records exist: continue forward from here.
    pub next: Option<Keyset>,
    /// Newer records exist: continue backward from here.
    pub previous: Option<Keyset>,
}

/// Builds the page from a scan in scan order (at most `page_size + 1` rows). A scan that stopped
/// early continues from where it stopped, even when it found nothing.
pub fn assemble<T>(
    scan: Scan<T>,
    request: &PageRequest,
    page_size: usize,
    key: impl Fn(&T) -> Keyset,
) -> Page<T> {
    let Scan {
        mut rows,
        stopped_at,
    } = scan;
    // An empty page links back from where its scan stopped, or from the far end it reached,
    // never from its cursor: the page before showed the cursor's row, and a link from it would
    // leave that row out. Everything between there and the cursor failed the filters.
    let empty_page_links_back_from = stopped_at
        .clone()
        .unwrap_or_else(|| Keyset::far_end(request.direction()));
    let more_in_direction = rows.len() > page_size;
    rows.truncate(page_size);
    let continue_from = if more_in_direction {
        rows.last().map(&key)
    } else {
        stopped_at
    };
    match &request.cursor {
        None => Page {
            next: continue_from,
            previous: None,
            items: rows,
        },
        Some(cursor) if cursor.direction == Direction::Forward => Page {
            next: continue_from,
            // Everything newer than the cursor is where this page came from.
            previous: Some(rows.first().map_or(empty_page_links_back_from, &key)),
            items: rows,
        },
        Some(_) => {
            rows.reverse();
            Page {
                next: Some(rows.last().map_or(empty_page_links_back_from, &key)),
                previous: continue_from,
                items: rows,
            }
        }
    }
}

/// A createdAt range; both ends inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimeWindow {
    pub start: Option<DateTime<Utc>>,
    pub end: DateTime<Utc>,
}

/// The createdAt filters of a list request, before they are resolved against the clock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimeFilter {
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    pub period: Option<chrono::TimeDelta>,
}

impl TimeFilter {
    /// As the upstream's list API: `period` means the last `period` up to now and wins over
    /// `created_after` and `created_before`, which are then ignored; with no time filter at all
    /// the window is the last `default_period`; `created_before` is clamped to now.
    pub fn resolve(
        &self,
        now: DateTime<Utc>,
        default_period: chrono::TimeDelta,
    ) -> Result<TimeWindow> {
        if let Some(start) = self.period_start(now)? {
            return Ok(TimeWindow {
                start: Some(start),
                end: now,
            });
        }
        let end = self.created_before.map_or(now, |before| before.min(now));
        let start = match (self.created_after, self.created_before) {
            (Some(after), _) => Some(after),
            (None, Some(_)) => None,
            (None, None) => Some(now - default_period),
        };
        if start.is_some_and(|start| start > end) {
            return Err(Error::invalid_argument(
                "created_after",
                "must not be later than created_before",
            ));
        }
        Ok(TimeWindow { start, end })
    }

    /// As the upstream's token list: no default window; `period` counts back from now and, with
    /// `created_after` too, the later start wins; `created_before` is clamped to now. A window
    /// that ends before it starts is no mistake: it matches nothing.
    pub fn resolve_without_default(&self, now: DateTime<Utc>) -> Result<TimeWindow> {
        let start = match (self.period_start(now)?, self.created_after) {
            (Some(period_start), Some(after)) => Some(period_start.max(after)),
            (period_start, after) => period_start.or(after),
        };
        let end = self.created_before.map_or(now, |before| before.min(now));
        Ok(TimeWindow { start, end })
    }

    /// Now minus `period`, when there is one.
    fn period_start(&self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>> {
        let Some(period) = self.period else {
            return Ok(None);
        };
        if period <= chrono::TimeDelta::zero() {
            return Err(Error::invalid_argument("period", "must be positive"));
        }
        now.checked_sub_signed(period)
            .map(Some)
            .ok_or_else(|| Error::invalid_argument("period", "reaches too far back"))
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeDelta, TimeZone};

    use super::*;

    fn key(n: i64) -> Keyset {
        Keyset {
            created_at: Utc
                .timestamp_millis_opt(n * 1000)
                .single()
                .unwrap_or_default(),
            id: format!("{n:04}"),
        }
    }

    #[test]
    fn page_sizes_default_cap_and_refuse_negatives() {
        assert_eq!(page_size(0), Ok(25));
        assert_eq!(page_size(7), Ok(7));
        assert_eq!(page_size(1000), Ok(100));
        assert!(matches!(page_size(-1), Err(Error::InvalidArgument { .. })));
    }

    #[test]
    fn a_first_page_with_more_rows_points_forward_only() {
        let request = PageRequest::for_page(None, 2);
        let page = assemble(
            Scan::complete(vec![key(9), key(8), key(7)]),
            &request,
            2,
            Clone::clone,
        );
        assert_eq!(page.items, [key(9), key(8)]);
        assert_eq!(page.next, Some(key(8)));
        assert_eq!(page.previous, None);
    }

    #[test]
    fn the_last_forward_page_has_no_next() {
        let cursor = Cursor {
            keyset: key(8),
            direction: Direction::Forward,
        };
        let request = PageRequest::for_page(Some(cursor), 2);
        let page = assemble(Scan::complete(vec![key(7)]), &request, 2, Clone::clone);
        assert_eq!(page.next, None);
        assert_eq!(page.previous, Some(key(7)));
    }

    #[test]
    fn a_backward_page_is_reordered_newest_first() {
        let cursor = Cursor {
            keyset: key(5),
            direction: Direction::Backward,
        };
        let request = PageRequest::for_page(Some(cursor), 2);
        let page = assemble(
            Scan::complete(vec![key(6), key(7), key(8)]),
            &request,
            2,
            Clone::clone,
        );
        assert_eq!(page.items, [key(7), key(6)]);
        assert_eq!(page.previous, Some(key(7)));
        assert_eq!(page.next, Some(key(6)));
    }

    #[test]
    fn reaching_the_start_backward_leaves_no_previous() {
        let cursor = Cursor {
            keyset: key(5),
            direction: Direction::Backward,
        };
        let request = PageRequest::for_page(Some(cursor), 3);
        let page = assemble(
            Scan::complete(vec![key(6), key(7)]),
            &request,
            3,
            Clone::clone,
        );
        assert_eq!(page.items, [key(7), key(6)]);
        assert_eq!(page.previous, None);
    }

    #[test]
    fn a_scan_that_stopped_early_continues_from_where_it_stopped() {
        let request = PageRequest::for_page(None, 3);
        let scan = Scan {
            rows: vec![key(9)],
            stopped_at: Some(key(4)),
        };
        let page = assemble(scan, &request, 3, Clone::clone);
        assert_eq!(page.items, [key(9)]);
        assert_eq!(page.next, Some(key(4)));
        // Even with nothing found, backward: the page continues toward newer records.
        let cursor = Cursor {
            keyset: key(2),
            direction: Direction::Backward,
        };
        let request = PageRequest::for_page(Some(cursor), 3);
        let scan = Scan::<Keyset> {
            rows: Vec::new(),
            stopped_at: Some(key(6)),
        };
        let page = assemble(scan, &request, 3, Clone::clone);
        assert!(page.items.is_empty());
        assert_eq!(page.previous, Some(key(6)));
        // Back toward older records from where it stopped: the cursor's row (shown on the page
        // this one came from) is beyond that position, not excluded by it.
        assert_eq!(page.next, Some(key(6)));
    }

    #[test]
    fn an_empty_page_links_back_to_a_page_that_still_shows_its_cursors_row() {
        // The page before ended on key(5) (its walk's last row, shown); this one found nothing.
        for direction in [Direction::Forward, Direction::Backward] {
            let cursor = Cursor {
                keyset: key(5),
                direction,
            };
            let request = PageRequest::for_page(Some(cursor), 3);
            let back = |page: Page<Keyset>| match direction {
                Direction::Forward => page.previous,
                Direction::Backward => page.next,
            };
            // Everything between key(5) and where the walk stopped failed the filters.
            let edge = key(if direction == Direction::Forward {
                2
            } else {
                8
            });
            let stopped = Scan::<Keyset> {
                rows: Vec::new(),
                stopped_at: Some(edge.clone()),
            };
            let link = back(assemble(stopped, &request, 3, Clone::clone));
            assert_eq!(
                link,
                Some(edge),
                "{direction:?}: a link from key(5) leaves it out"
            );
            // With nothing beyond, the link starts past every record, so key(5) is reached.
            let ended = Scan::<Keyset> {
                rows: Vec::new(),
                stopped_at: None,
            };
            let link = back(assemble(ended, &request, 3, Clone::clone)).expect("a link back");
            match direction {
                Direction::Forward => assert!(link < key(5), "{link:?}"),
                Direction::Backward => assert!(link > key(5), "{link:?}"),
            }
        }
    }

    #[test]
    fn a_full_page_ignores_where_the_scan_stopped() {
        let request = PageRequest::for_page(None, 2);
        let scan = Scan {
            rows: vec![key(9), key(8), key(7)],
            stopped_at: Some(key(1)),
        };
        let page = assemble(scan, &request, 2, Clone::clone);
        assert_eq!(page.next, Some(key(8)));
    }

    #[test]
    fn token_windows_have_no_default_and_the_later_start_wins() {
        let now = at(1_000);
        assert_eq!(
            TimeFilter::default().resolve_without_default(now),
            Ok(TimeWindow {
                start: None,
                end: now
            })
        );
        let period = TimeFilter {
            created_after: Some(at(100)),
            period: Some(TimeDelta::seconds(60)),
            ..TimeFilter::default()
        };
        assert_eq!(
            period.resolve_without_default(now).map(|w| w.start),
            Ok(Some(at(940)))
        );
        let after = TimeFilter {
            created_after: Some(at(990)),
            ..period
        };
        assert_eq!(
            after.resolve_without_default(now).map(|w| w.start),
            Ok(Some(at(990)))
        );
        let clamped = TimeFilter {
            created_before: Some(at(5_000)),
            ..TimeFilter::default()
        };
        assert_eq!(clamped.resolve_without_default(now).map(|w| w.end), Ok(now));
        let inverted = TimeFilter {
            created_after: Some(at(900)),
            created_before: Some(at(800)),
            period: None,
        };
        // Not refused, as upstream: it matches nothing.
        assert_eq!(
            inverted.resolve_without_default(now),
            Ok(TimeWindow {
                start: Some(at(900)),
                end: at(800)
            })
        );
        let zero = TimeFilter {
            period: Some(TimeDelta::zero()),
            ..TimeFilter::default()
        };
        assert!(zero.resolve_without_default(now).is_err());
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(seconds, 0).single().unwrap_or_default()
    }

    #[test]
    fn no_time_filter_means_the_default_period_up_to_now() {
        let window = TimeFilter::default().resolve(at(1_000_000), TimeDelta::days(7));
        assert_eq!(
            window,
            Ok(TimeWindow {
                start: Some(at(1_000_000) - TimeDelta::days(7)),
                end: at(1_000_000)
            })
        );
    }

    #[test]
    fn created_before_is_clamped_to_now_and_period_counts_back_from_now() {
        let filter = TimeFilter {
            created_before: Some(at(5_000)),
            period: Some(TimeDelta::seconds(60)),
            ..TimeFilter::default()
        };
        let window = filter.resolve(at(1_000), TimeDelta::days(7));
        assert_eq!(
            window,
            Ok(TimeWindow {
                start: Some(at(940)),
                end: at(1_000)
            })
        );
    }

    #[test]
    fn a_period_wins_over_created_after_and_created_before() {
        let filter = TimeFilter {
            created_after: Some(at(100)),
            created_before: Some(at(500)),
            period: Some(TimeDelta::seconds(60)),
        };
        assert_eq!(
            filter.resolve(at(1_000), TimeDelta::days(7)),
            Ok(TimeWindow {
                start: Some(at(940)),
                end: at(1_000)
            })
        );
    }

    #[test]
    fn only_created_before_leaves_the_start_open() {
        let filter = TimeFilter {
            created_before: Some(at(500)),
            ..TimeFilter::default()
        };
        assert_eq!(
            filter.resolve(at(1_000), TimeDelta::days(7)),
            Ok(TimeWindow {
                start: None,
                end: at(500)
            })
        );
    }

    #[test]
    fn contradictory_time_filters_are_refused_with_their_field() {
        let field = |filter: TimeFilter| match filter.resolve(at(1_000), TimeDelta::days(7)) {
            Err(Error::InvalidArgument { violations, .. }) => violations[0].field.clone(),
            other => panic!("expected INVALID_ARGUMENT, got {other:?}"),
        };
        assert_eq!(
            field(TimeFilter {
                period: Some(TimeDelta::zero()),
                ..TimeFilter::default()
            }),
            "period"
        );
        assert_eq!(
            field(TimeFilter {
                period: Some(TimeDelta::MAX),
                ..TimeFilter::default()
            }),
            "period"
        );
        assert_eq!(
            field(TimeFilter {
                created_after: Some(at(900)),
                created_before: Some(at(800)),
                ..TimeFilter::default()
            }),
            "created_after"
        );
    }
}
