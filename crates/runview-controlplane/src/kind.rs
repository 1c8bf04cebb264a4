//! What sets one kind of control-plane record apart from the others: its statement and rows.

use std::collections::HashMap;

use runview_core::Error;
use sqlx::PgPool;
use sqlx::postgres::PgRow;

/// The control plane as named in errors; never its address.
pub(crate) const CONTROL_PLANE: &str = "control plane";

/// A kind of control-plane record, loaded many keys per statement.
pub(crate) trait Kind: Send + Sync + 'static {
    /// Names the kind in spans, cache names and statistics.
    const NAME: &'static str;

    /// One statement taking the keys as `$1` (a text array, matched with `= ANY($1)`) and
    /// returning a row for each key that exists.
    const BY_IDS: &'static str;

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
    keys: &[String],
) -> Result<HashMap<String, K::Value>, Error> {
    let rows: Vec<K::Row> = sqlx::query_as(K::BY_IDS)
        .bind(keys)
        .fetch_all(pool)
        .await
        .map_err(|error| runview_pg::map_error(CONTROL_PLANE, error))?;
    rows.into_iter().map(K::record).collect()
}
