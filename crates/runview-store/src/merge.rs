//! One page from what every store scanned: records both stores hold are taken from NEW, the rest
//! are put in the list's order, and the page ends where the first store's scan stopped.

use std::cmp::Ordering;
use std::collections::HashSet;

use chrono::{DateTime, Utc};
use runview_core::page::{Direction, Keyset, PageRequest, Scan};

/// A record with a place in a list's order.
pub(crate) trait Keyed {
    fn created_at(&self) -> DateTime<Utc>;
    fn id(&self) -> &str;
}

impl Keyed for Keyset {
    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    fn id(&self) -> &str {
        &self.id
    }
}

/// How a list orders its records. ids compare byte by byte, as the statements order them (in
/// the "C" collation, or in one that sorts cuids as bytes do).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Order {
    /// Runs and batches: (createdAt, id).
    CreatedAtThenId,
    /// Waitpoint tokens: id alone.
    Id,
}

impl Order {
    fn ascending(self, a: &impl Keyed, b: &impl Keyed) -> Ordering {
        match self {
            Self::CreatedAtThenId => (a.created_at(), a.id()).cmp(&(b.created_at(), b.id())),
            Self::Id => a.id().cmp(b.id()),
        }
    }

    /// `Less` when `a` comes before `b` in the scan's direction.
    fn in_scan(self, a: &impl Keyed, b: &impl Keyed, page: &PageRequest) -> Ordering {
        match page.direction() {
            Direction::Forward => self.ascending(b, a),
            Direction::Backward => self.ascending(a, b),
        }
    }
}

/// Puts one store's rows in scan order.
pub(crate) fn sort_for_scan<T: Keyed>(rows: &mut [T], page: &PageRequest, order: Order) {
    rows.sort_by(|a, b| order.in_scan(a, b, page));
}

/// One page from two stores' scans, each in scan order and complete up to its last row or to
/// where it stopped. Each store read `limit` rows past the cursor, so the first `limit` of their
/// union are the first `limit` overall, unless a store stopped first: rows beyond its stop are
/// cut, since that store was not read there, and the page continues from the stop.
pub(crate) fn merge_scans<T: Keyed>(
    legacy: Scan<T>,
    new: Scan<T>,
    page: &PageRequest,
    order: Order,
) -> Scan<T> {
    let frontier = [legacy.stopped_at, new.stopped_at]
        .into_iter()
        .flatten()
        .min_by(|a, b| order.in_scan(a, b, page));
    let legacy_only: Vec<T> = {
        let in_new: HashSet<&str> = new.rows.iter().map(Keyed::id).collect();
        legacy
            .rows
            .into_iter()
            .filter(|record| !in_new.contains(record.id()))
            .collect()
    };
    let mut rows = new.rows;
    rows.extend(legacy_only);
    sort_for_scan(&mut rows, page, order);
    rows.truncate(page.limit);
    if let Some(frontier) = &frontier {
        rows.retain(|record| order.in_scan(record, frontier, page).is_le());
    }
    Scan {
        stopped_at: frontier.filter(|_| rows.len() < page.limit),
        rows,
    }
}

#[cfg(test)]
mod tests {
    use runview_core::page::Cursor;

    use super::*;

    #[derive(Debug, PartialEq)]
    struct Row(i64, &'static str, &'static str);

    impl Keyed for Row {
        fn created_at(&self) -> DateTime<Utc> {
            DateTime::from_timestamp(self.0, 0).unwrap_or_default()
        }

        fn id(&self) -> &str {
            self.1
        }
    }

    fn page(direction: Option<Direction>, limit: usize) -> PageRequest {
        let cursor = direction.map(|direction| Cursor {
            keyset: Keyset {
                created_at: DateTime::UNIX_EPOCH,
                id: String::new(),
            },
            direction,
        });
        PageRequest { cursor, limit }
    }

    fn complete(rows: Vec<Row>) -> Scan<Row> {
        Scan::complete(rows)
    }

    fn stopped(rows: Vec<Row>, at: Row) -> Scan<Row> {
        Scan {
            rows,
            stopped_at: Some(Keyset {
                created_at: at.created_at(),
                id: at.1.to_owned(),
            }),
        }
    }

    fn ids(scan: &Scan<Row>) -> Vec<&str> {
        scan.rows.iter().map(|row| row.1).collect()
    }

    #[test]
    fn forward_pages_merge_newest_first_with_ids_breaking_ties() {
        let legacy = complete(vec![Row(3, "b", "legacy"), Row(1, "a", "legacy")]);
        let new = complete(vec![
            Row(3, "c", "new"),
            Row(3, "a", "new"),
            Row(2, "z", "new"),
        ]);
        let merged = merge_scans(legacy, new, &page(None, 4), Order::CreatedAtThenId);
        assert_eq!(ids(&merged), ["c", "b", "a", "z"]);
    }

    #[test]
    fn backward_pages_merge_oldest_first() {
        let legacy = complete(vec![Row(1, "a", "legacy"), Row(3, "b", "legacy")]);
        let new = complete(vec![Row(2, "z", "new"), Row(3, "c", "new")]);
        let backward = page(Some(Direction::Backward), 3);
        let merged = merge_scans(legacy, new, &backward, Order::CreatedAtThenId);
        assert_eq!(ids(&merged), ["a", "z", "b"]);
    }

    #[test]
    fn a_record_in_both_stores_is_taken_once_from_new() {
        let legacy = complete(vec![Row(2, "a", "legacy"), Row(1, "b", "legacy")]);
        let new = complete(vec![Row(2, "a", "new")]);
        let forward = page(Some(Direction::Forward), 10);
        let merged = merge_scans(legacy, new, &forward, Order::CreatedAtThenId);
        assert_eq!(merged.rows, [Row(2, "a", "new"), Row(1, "b", "legacy")]);
    }

    #[test]
    fn ids_order_byte_by_byte() {
        let legacy = complete(vec![Row(1, "a", "legacy")]);
        let new = complete(vec![Row(1, "B", "new")]);
        let merged = merge_scans(legacy, new, &page(None, 2), Order::CreatedAtThenId);
        assert_eq!(ids(&merged), ["a", "B"]);
    }

    #[test]
    fn a_page_ends_where_the_first_store_stopped() {
        // LEGACY read down to second 7 without filling the page; NEW went on to second 2.
        // Between 7 and 2 LEGACY was not read, so NEW's run at 3 cannot be shown yet.
        let legacy = stopped(vec![Row(9, "k", "legacy")], Row(7, "h", "legacy"));
        let new = complete(vec![Row(8, "j", "new"), Row(3, "c", "new")]);
        let merged = merge_scans(legacy, new, &page(None, 4), Order::CreatedAtThenId);
        assert_eq!(ids(&merged), ["k", "j"]);
        assert_eq!(merged.stopped_at.map(|at| at.id), Some("h".to_owned()));
    }

    #[test]
    fn the_stop_nearest_the_cursor_wins_and_id_orders_ignore_created_at() {
        let legacy = stopped(
            vec![Row(9, "n", "legacy"), Row(1, "p", "legacy")],
            Row(0, "q", ""),
        );
        let new = stopped(vec![Row(5, "o", "new")], Row(0, "x", ""));
        let backward = page(Some(Direction::Backward), 5);
        let merged = merge_scans(legacy, new, &backward, Order::Id);
        assert_eq!(ids(&merged), ["n", "o", "p"]);
        assert_eq!(merged.stopped_at.map(|at| at.id), Some("q".to_owned()));
    }

    #[test]
    fn a_page_filled_before_any_stop_needs_no_stop() {
        let legacy = stopped(vec![Row(0, "z", ""), Row(0, "y", "")], Row(0, "a", ""));
        let new = complete(vec![Row(0, "x", "")]);
        let merged = merge_scans(legacy, new, &page(None, 2), Order::Id);
        assert_eq!(ids(&merged), ["z", "y"]);
        assert_eq!(merged.stopped_at, None);
    }
}
