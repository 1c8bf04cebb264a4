//! What sets one kind of control-plane record apart from the others: its statement and rows.

use std::collections::HashMap;

use runview_core::Error;
use runview_pg::{Statement, TracedDatabase, record_outcome};
use sqlx::PgPool;
use sqlx::postgres::PgRow;
use tracing::Instrument;

/// The control plane as named in errors; never its address.
pub(crate) const CONTROL_PLANE: &str = "control plane";

/// The control plane as traces name it, like the `database` label of the pool metrics.
pub(crate) const TRACED_AS: &str = "control_plane";

/// A kind of control-plane record, loaded many keys per statement.
pub(crate) trait Kind: Send + Sync + 'static {
    /// Names the kind in spans, cache names and statistics.
    const NAME: &'static str;

    /// One statement taking the keys as `$1` (a text array, matched with `= ANY($1)`) and
    /// returning a row for each key that exists.
    const BY_IDS: &'static str;

    /// [`Self::BY_IDS`] in a trace: `db.query.summary`, the tables it reads in order.
    const SUMMARY: &'static str;

    type Row: for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin;
    type Value: Send + Sync + 'static;

    /// The record a row describes, with its key.
    fn record(row: Self::Row) -> Result<(String, Self::Value), Error>;

    /// The environment whose invalidation drops the entry of `key`, if any. Every kind's entries
    /// are dropped by an invalidation of everything.
    fn environment(_key: &str) -> Option<&str> {
        None
    }

    /// The organization whose invalidation drops the entry of `value`, if any.
    fn organization(_value: &Self::Value) -> Option<&str> {
        None
    }
}

/// The records of `keys` that exist, by key; a key that does not exist is left out.
pub(crate) async fn load<K: Kind>(
    pool: &PgPool,
    traced: &TracedDatabase,
    keys: &[String],
) -> Result<HashMap<String, K::Value>, Error> {
    let span = traced.span(&Statement {
        name: K::NAME,
        operation: "SELECT",
        summary: K::SUMMARY,
    });
    let rows = sqlx::query_as(K::BY_IDS)
        .bind(keys)
        .fetch_all(pool)
        .instrument(span.clone())
        .await;
    record_outcome(&span, &rows);
    let rows: Vec<K::Row> = rows.map_err(|error| runview_pg::map_error(CONTROL_PLANE, error))?;
    rows.into_iter().map(K::record).collect()
}
