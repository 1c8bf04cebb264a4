//! Routing counters, through the `metrics` facade: the edge installs the exporter. Every label is
//! from a fixed set, never an id, so the series stay few.

use runview_core::ids::Residency;

/// How a lookup by id was answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LookupOutcome {
    /// The store the id's shape points at held the record.
    HomeHit,
    /// Only the other store held it: its id shape is misleading.
    FallbackHit,
    /// No store held it.
    Miss,
}

impl LookupOutcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::HomeHit => "home_hit",
            Self::FallbackHit => "fallback_hit",
            Self::Miss => "miss",
        }
    }
}

/// A lookup of a `record` ("run" or "waitpoint") whose id shape points at `home`.
pub(crate) fn count_lookup(record: &'static str, home: Residency, outcome: LookupOutcome) {
    metrics::counter!(
        "runview_store_lookups_total",
        "record" => record,
        "store" => home.as_str(),
        "outcome" => outcome.as_str(),
    )
    .increment(1);
}

/// A lookup that missed on every replica and was asked of the primaries: `found` there or not.
pub(crate) fn count_primary_lookup(record: &'static str, store: Residency, found: bool) {
    metrics::counter!(
        "runview_primary_lookups_total",
        "record" => record,
        "store" => store.as_str(),
        "outcome" => if found { "hit" } else { "miss" },
    )
    .increment(1);
}

/// One statement sent to `store`.
pub(crate) fn count_query(store: Residency, operation: &'static str) {
    metrics::counter!(
        "runview_store_queries_total",
        "store" => store.as_str(),
        "operation" => operation,
    )
    .increment(1);
}

/// One statement sent to `store` (a [`crate::PgRunStore::label`]) for `lookups` lookups of a
/// `record`, when lookups are coalesced: the sum over the count is the lookups per statement.
pub(crate) fn record_statement_lookups(store: &'static str, record: &'static str, lookups: usize) {
    metrics::histogram!(
        "runview_coalesced_lookups",
        "store" => store,
        "record" => record,
    )
    .record(lookups as f64);
}
