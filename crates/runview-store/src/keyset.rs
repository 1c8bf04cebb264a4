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
use sqlx::{Encode, PgConnection, Postgres, QueryBuilder, Type};

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
/// values asked for. When such a page comes back short, [`KeysetStatement::walk_edge`] tells
/// whether the walk ended for want of budget, and where.
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
        self.walk.push_range(&mut builder);
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

    /// Whether a condition narrows the walk: the statement then walks at most the budget.
    pub(crate) fn is_filtered(&self) -> bool {
        !self.conditions.is_empty()
    }

    pub(crate) fn walk(&self) -> Walk<'a> {
        self.walk
    }

    /// The page's rows in scan order, not yet decoded.
    ///
    /// The unfiltered walk stays prepared on the connection, and its generic plan is the index
    /// range. A filtered statement is planned with its values every time instead (an unnamed
    /// statement): a generic plan cannot know whether a tag, a task or a schedule matches a few
    /// runs or most of them.
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
        builder.push(columns).push("\nFROM ");
        if conditions.is_empty() || !budgeted {
            builder.push(walk.table).push(" t");
            walk.push_range(&mut builder);
            for condition in conditions {
                condition(&mut builder);
            }
        } else {
            builder.push("(\n    SELECT * FROM ").push(walk.table);
            walk.push_range(&mut builder);
            walk.push_order(&mut builder);
            builder
                .push("\n    LIMIT ")
                .push_bind(limit(walk.scan_budget.max(walk.page.limit)))
                .push("\n) t\nWHERE true");
            for condition in conditions {
                condition(&mut builder);
            }
        }
        walk.push_order(&mut builder);
        builder.push("\nLIMIT ").push_bind(limit(walk.page.limit));
        builder
    }
}

impl Walk<'_> {
    /// ` WHERE` the environment, the window and the cursor.
    fn push_range<'q>(&self, builder: &mut QueryBuilder<'q, Postgres>)
    where
        Self: 'q,
    {
        builder
            .push("\nWHERE \"runtimeEnvironmentId\" = ")
            .push_bind(self.environment_id.as_str().to_owned());
        // `timestamp without time zone` holds UTC: bind naive values, so the session's time
        // zone never shifts them.
        if let Some(start) = self.window.start {
            builder
                .push("\n  AND \"createdAt\" >= ")
                .push_bind(start.naive_utc());
        }
        builder
            .push("\n  AND \"createdAt\" <= ")
            .push_bind(self.window.end.naive_utc());
        if let Some(cursor) = &self.page.cursor {
            let beyond = match cursor.direction {
                Direction::Forward => "<",
                Direction::Backward => ">",
            };
            builder
                .push(format_args!(
                    "\n  AND (\"createdAt\", id COLLATE \"C\") {beyond} ("
                ))
                .push_bind(cursor.keyset.created_at.naive_utc())
                .push(", ")
                .push_bind(cursor.keyset.id.clone())
                .push(")");
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

    /// Where a walk that spent its whole budget stopped: the last row it read, if it read the
    /// budget's worth. Read only after a filtered page came back short, from the index alone.
    pub(crate) async fn edge(
        self,
        connection: &mut PgConnection,
    ) -> Result<Option<Keyset>, sqlx::Error> {
        let mut builder = QueryBuilder::new("SELECT \"createdAt\", id FROM ");
        builder.push(self.table);
        self.push_range(&mut builder);
        self.push_order(&mut builder);
        let budget = self.scan_budget.max(self.page.limit);
        builder
            .push("\nOFFSET ")
            .push_bind(limit(budget - 1))
            .push(" LIMIT 1");
        let edge: Option<(NaiveDateTime, String)> = builder
            .build_query_as()
            .persistent(false)
            .fetch_optional(connection)
            .await?;
        Ok(edge.map(|(created_at, id)| Keyset {
            created_at: created_at.and_utc(),
            id,
        }))
    }
}

/// A keyset read's statements as metrics and traces know them: the page, and the walk's edge,
/// read when a filtered page comes back short.
pub(crate) struct ScanStatements {
    pub(crate) page: Statement,
    pub(crate) edge: Statement,
}

impl ScanStatements {
    /// `name` reading its page from the table of `summary` (`SELECT TaskRun`).
    pub(crate) const fn of(name: &'static str, summary: &'static str) -> Self {
        Self {
            page: Statement {
                name,
                operation: "SELECT",
                summary,
            },
            edge: Statement {
                name: "walk_edge",
                operation: "SELECT",
                summary,
            },
        }
    }
}

impl PgRunStore {
    /// Runs a list statement; when a filtered page comes back short, also asks where its walk
    /// stopped, on the same connection.
    pub(crate) async fn scan_keyset(
        &self,
        statements: &ScanStatements,
        statement: KeysetStatement<'_>,
        page: &PageRequest,
    ) -> Result<Scan<PgRow>> {
        let filtered = statement.is_filtered();
        let walk = statement.walk();
        let mut lease = self.lease(&statements.page).await?;
        let scan = async {
            let rows = statement.fetch_rows(lease.connection()).await?;
            let stopped_at = if filtered && rows.len() < page.limit {
                walk.edge(lease.next(&statements.edge)).await?
            } else {
                None
            };
            Ok(Scan { rows, stopped_at })
        }
        .await;
        lease.finish(scan)
    }
}

fn limit(rows: usize) -> i64 {
    i64::try_from(rows).unwrap_or(i64::MAX)
}

/// `Some(values)` when there are any: an empty filter list means "any".
pub(crate) fn any_of<T, L: AsRef<[T]>>(values: L) -> Option<L> {
    (!values.as_ref().is_empty()).then_some(values)
}
