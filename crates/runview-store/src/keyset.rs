//! Keyset pages in (createdAt DESC, id DESC) order, shared by the run and batch lists: the frame
//! of a list statement (environment, window, cursor, order, limit, scan budget) and its filters.
//!
//! ids are compared in the "C" collation, byte by byte as Rust compares `str`, so PostgreSQL's
//! order and the merge agree whatever collation a database defaults to. On the upstream's indexes
//! alone a page reads ("runtimeEnvironmentId", "createdAt" DESC) in index order and sorts only the
//! rows that share a createdAt (an Incremental Sort); the cursor bounds createdAt in the index and
//! the id in a filter. The optional indexes in `migrations/recommended/0001_runview_indexes.sql`
//! have the whole key, so where they exist a page is an index range read in index order.

use chrono::NaiveDateTime;
use runview_core::Result;
use runview_core::ids::EnvironmentId;
use runview_core::page::{Direction, Keyset, PageRequest, Scan, TimeWindow};
use runview_pg::Statement;
use sqlx::postgres::PgRow;
use sqlx::{Encode, PgConnection, Postgres, QueryBuilder, Row, Type};

use crate::store::PgRunStore;

/// One list statement over a table with "runtimeEnvironmentId", "createdAt" and id, aliased `t`.
///
/// Only the conditions a query uses are written, each with its own parameter: a condition that
/// may or may not apply (`$1 IS NULL OR …`) makes PostgreSQL estimate every filter as selective,
/// and a plan expecting a handful of rows sorts the environment's window instead of walking the
/// index.
///
/// A filtered statement reads the window through a walk of at most `scan_budget` rows in index
/// order and filters what the walk read, so a page costs at most the budget however rare the
/// values asked for. The walk's last row comes back too when the walk spent its whole budget (the
/// edge, marked `walk_edge`): a short page then resumes after it, with no second statement.
pub(crate) struct KeysetStatement<'a> {
    columns: &'a str,
    walk: Walk<'a>,
    conditions: Vec<Condition<'a>>,
    /// Whether a filtered statement walks at most the budget (else PostgreSQL picks the path).
    budgeted: bool,
}

/// Renders one `AND …` condition with its value bound.
type Condition<'a> = Box<dyn FnOnce(&mut QueryBuilder<'a, Postgres>) + Send + 'a>;

/// What a statement walks: the environment's rows in the window beyond the cursor.
#[derive(Clone, Copy)]
pub(crate) struct Walk<'a> {
    table: &'a str,
    environment_id: &'a EnvironmentId,
    window: TimeWindow,
    page: &'a PageRequest,
    scan_budget: usize,
}

impl<'a> KeysetStatement<'a> {
    /// Reads `columns` (of `t`) from `table`, in the environment's window beyond the cursor.
    pub(crate) fn new(
        columns: &'a str,
        table: &'a str,
        environment_id: &'a EnvironmentId,
        window: TimeWindow,
        page: &'a PageRequest,
        scan_budget: usize,
    ) -> Self {
        Self {
            columns,
            walk: Walk {
                table,
                environment_id,
                window,
                page,
                scan_budget,
            },
            conditions: Vec::new(),
            budgeted: true,
        }
    }

    /// The same statement without the walk's limit, for conditions an index serves, once
    /// [`KeysetStatement::count_up_to`] has shown they match few rows.
    pub(crate) fn unbudgeted(mut self) -> Self {
        self.budgeted = false;
        self
    }

    /// How many rows of the window beyond the cursor pass the conditions, counting no further
    /// than `most`.
    pub(crate) async fn count_up_to(
        self,
        most: usize,
        connection: &mut PgConnection,
    ) -> Result<usize, sqlx::Error> {
        let count: i64 = self
            .build_count(most)
            .build_query_scalar()
            .persistent(false)
            .fetch_one(connection)
            .await?;
        Ok(usize::try_from(count).unwrap_or(usize::MAX))
    }

    /// The text of [`KeysetStatement::count_up_to`], for plan checks.
    pub(crate) fn into_count_sql(self, most: usize) -> String {
        self.build_count(most).into_sql()
    }

    fn build_count(self, most: usize) -> QueryBuilder<'a, Postgres> {
        let mut builder = QueryBuilder::new("SELECT count(*) FROM (\nSELECT 1 FROM ");
        builder.push(self.walk.table).push(" t");
        self.walk.push_range(&mut builder, Values::Visible);
        for condition in self.conditions {
            condition(&mut builder);
        }
        builder
            .push("\nLIMIT ")
            .push_bind(limit(most))
            .push("\n) matching");
        builder
    }

    /// Adds `AND <condition>` when there is a `value`; `$` in `condition` stands for it.
    pub(crate) fn and<T>(&mut self, condition: &'static str, value: Option<T>)
    where
        T: 'a + Encode<'a, Postgres> + Type<Postgres> + Send,
    {
        let Some(value) = value else {
            return;
        };
        let (before, after) = condition.split_once('$').unwrap_or((condition, ""));
        self.conditions.push(Box::new(move |builder| {
            builder
                .push("\n  AND ")
                .push(before)
                .push_bind(value)
                .push(after);
        }));
    }

    /// Whether a condition narrows the walk.
    pub(crate) fn is_filtered(&self) -> bool {
        !self.conditions.is_empty()
    }

    /// Whether the statement walks at most the budget, and so may stop before the page is full.
    fn walks_a_budget(&self) -> bool {
        self.is_filtered() && self.budgeted
    }

    /// The page's rows in scan order, not yet decoded.
    ///
    /// The unfiltered walk stays prepared on the connection, and its generic plan is the index
    /// range (see [`Values::Hidden`]). A filtered statement is planned with its values every
    /// time instead (an unnamed statement): a generic plan cannot know whether a tag, a task or
    /// a schedule matches a few runs or most of them.
    pub(crate) async fn fetch_rows(
        self,
        connection: &mut PgConnection,
    ) -> Result<Vec<PgRow>, sqlx::Error> {
        let persistent = !self.is_filtered();
        self.build()
            .build()
            .persistent(persistent)
            .fetch_all(connection)
            .await
    }

    /// The statement's text, for plan checks.
    pub(crate) fn into_sql(self) -> String {
        self.build().into_sql()
    }

    fn build(self) -> QueryBuilder<'a, Postgres> {
        let Self {
            columns,
            walk,
            conditions,
            budgeted,
        } = self;
        let mut builder = QueryBuilder::new("SELECT");
        builder.push(columns);
        let values = if conditions.is_empty() {
            Values::Hidden
        } else {
            Values::Visible
        };
        if conditions.is_empty() || !budgeted {
            builder.push("\nFROM ").push(walk.table).push(" t");
            walk.push_range(&mut builder, values);
            for condition in conditions {
                condition(&mut builder);
            }
        } else {
            // The walk numbers its rows in its own order (which costs no sort) and the filters
            // mark those that pass; the statement keeps those and the walk's last row. The
            // budget is written out, not bound: it is the server's setting, and the parameters
            // keep the order of an unbudgeted statement.
            let budget = walk.budget();
            builder.push(format_args!(
                ", h.walk_hit, t.walked = {budget} AS walk_edge\nFROM (\n  SELECT t.*, row_number() OVER ("
            ));
            walk.push_order(&mut builder);
            builder
                .push(") AS walked\n  FROM (\n    SELECT * FROM ")
                .push(walk.table);
            walk.push_range(&mut builder, values);
            walk.push_order(&mut builder);
            builder.push(format_args!(
                "\n    LIMIT {budget}\n  ) t\n) t\nCROSS JOIN LATERAL (SELECT coalesce(true"
            ));
            for condition in conditions {
                condition(&mut builder);
            }
            // A condition on a NULL column (a run without tags, a version or a batch) is NULL,
            // not false.
            builder.push(format_args!(
                ", false) AS walk_hit) h\nWHERE h.walk_hit OR t.walked = {budget}"
            ));
        }
        walk.push_order(&mut builder);
        builder.push("\nLIMIT ");
        values.push(&mut builder, limit(walk.page.limit), "int8");
        builder
    }
}

/// "createdAt"'s type: the upstream writes UTC.
const TIMESTAMP: &str = "timestamp";

/// How a statement's values reach the planner.
#[derive(Clone, Copy)]
enum Values {
    /// As parameters: each execution is planned with them (a custom plan).
    Visible,
    /// Behind scalar subqueries, for a statement kept prepared. PostgreSQL plans a prepared
    /// statement again on every execution as long as a plan with the values looks cheaper than
    /// the generic one, and with a page's LIMIT and an environment's row count in view it always
    /// does: planning a page cost more than reading it (about 0.1 ms against 0.07 ms on 1M runs).
    /// Hidden, every plan costs the same, and the generic one is kept after five executions.
    Hidden,
}

impl Values {
    /// Binds `value`, of SQL type `sql_type` (written out when hidden: a scalar subquery does
    /// not take its parameter's type from the comparison it is in).
    fn push<'q, T>(self, builder: &mut QueryBuilder<'q, Postgres>, value: T, sql_type: &str)
    where
        T: 'q + Encode<'q, Postgres> + Type<Postgres> + Send,
    {
        match self {
            Self::Visible => {
                builder.push_bind(value);
            }
            Self::Hidden => {
                builder
                    .push("(SELECT ")
                    .push_bind(value)
                    .push(format_args!("::{sql_type})"));
            }
        }
    }
}

impl Walk<'_> {
    /// ` WHERE` the environment, the window and the cursor.
    fn push_range<'q>(&self, builder: &mut QueryBuilder<'q, Postgres>, values: Values)
    where
        Self: 'q,
    {
        builder.push("\nWHERE \"runtimeEnvironmentId\" = ");
        values.push(builder, self.environment_id.as_str().to_owned(), "text");
        // `timestamp without time zone` holds UTC: bind naive values, so the session's time
        // zone never shifts them.
        if let Some(start) = self.window.start {
            builder.push("\n  AND \"createdAt\" >= ");
            values.push(builder, start.naive_utc(), TIMESTAMP);
        }
        builder.push("\n  AND \"createdAt\" <= ");
        values.push(builder, self.window.end.naive_utc(), TIMESTAMP);
        if let Some(cursor) = &self.page.cursor {
            let beyond = match cursor.direction {
                Direction::Forward => "<",
                Direction::Backward => ">",
            };
            builder.push(format_args!(
                "\n  AND (\"createdAt\", id COLLATE \"C\") {beyond} ("
            ));
            values.push(builder, cursor.keyset.created_at.naive_utc(), TIMESTAMP);
            builder.push(", ");
            values.push(builder, cursor.keyset.id.clone(), "text");
            builder.push(")");
        }
    }

    fn push_order(&self, builder: &mut QueryBuilder<'_, Postgres>) {
        let order = match self.page.direction() {
            Direction::Forward => "DESC",
            Direction::Backward => "ASC",
        };
        builder.push(format_args!(
            "\nORDER BY \"createdAt\" {order}, id COLLATE \"C\" {order}"
        ));
    }

    /// The most rows a filtered walk returns, so that PostgreSQL reads at most the budget: on
    /// the upstream's index it reads one row past the walk to close the Incremental Sort's last
    /// createdAt group, and on a later page the cursor's own row too. (Runs sharing a createdAt
    /// with the edge or the cursor are read as well.) Never less than a page.
    fn budget(&self) -> usize {
        let read_beside_the_walk = 1 + usize::from(self.page.cursor.is_some());
        self.scan_budget
            .saturating_sub(read_beside_the_walk)
            .max(self.page.limit)
    }
}

impl PgRunStore {
    /// Runs a list statement. A budgeted walk that spent its whole budget returned its last row
    /// too: when the page is short, that is where the next page resumes.
    pub(crate) async fn scan_keyset(
        &self,
        name: &Statement,
        statement: KeysetStatement<'_>,
        page: &PageRequest,
    ) -> Result<Scan<PgRow>> {
        let budgeted = statement.walks_a_budget();
        let mut lease = self.lease(name).await?;
        let scan = async {
            let rows = statement.fetch_rows(lease.connection()).await?;
            if budgeted {
                split_walk_edge(rows, page.limit)
            } else {
                Ok(Scan {
                    rows,
                    stopped_at: None,
                })
            }
        }
        .await;
        lease.finish(scan)
    }
}

/// The rows that passed the filters, and the walk's edge when the page is short of `limit`.
fn split_walk_edge(rows: Vec<PgRow>, limit: usize) -> Result<Scan<PgRow>, sqlx::Error> {
    let mut edge = None;
    let mut kept = Vec::with_capacity(rows.len());
    for row in rows {
        if row.try_get::<bool, _>("walk_edge")? {
            let created_at: NaiveDateTime = row.try_get("created_at")?;
            edge = Some(Keyset {
                created_at: created_at.and_utc(),
                id: row.try_get("id")?,
            });
        }
        if row.try_get::<bool, _>("walk_hit")? {
            kept.push(row);
        }
    }
    let stopped_at = edge.filter(|_| kept.len() < limit);
    Ok(Scan {
        rows: kept,
        stopped_at,
    })
}

fn limit(rows: usize) -> i64 {
    i64::try_from(rows).unwrap_or(i64::MAX)
}

/// `Some(values)` when there are any: an empty filter list means "any".
pub(crate) fn any_of<T, L: AsRef<[T]>>(values: L) -> Option<L> {
    (!values.as_ref().is_empty()).then_some(values)
}
