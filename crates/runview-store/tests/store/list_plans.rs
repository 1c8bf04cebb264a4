//! On the upstream's indexes alone, a list page reads a bounded stretch of an environment's rows:
//! the upstream ("runtimeEnvironmentId", "createdAt" DESC) index in index order, with at most an
//! Incremental Sort of rows that share a createdAt (id is not in that key in the "C" collation the
//! pages order by), never a sequential scan nor a sort of the environment's window. A filtered
//! page walks at most the scan budget. Checked on 150,000 ANALYZEd rows, 30,000 per environment,
//! on the first page and on a page 10,000 rows deep in both directions.
//!
//! The unfiltered walk stays prepared, so its generic plan matters as much as its custom plan.
//! A filtered statement is planned with its values every time (it is never kept prepared, as the
//! last test shows), so its custom plan is the one that runs. Where runview's recommended index
//! exists, a page is one index range in index order, with no sort at all.

use runview_core::batch::BatchStatus;
use runview_core::filter::{BatchListQuery, RunListQuery};
use runview_core::ids::{EnvironmentId, Residency};
use runview_core::page::{Cursor, Direction, Keyset, PageRequest, TimeWindow};
use runview_core::ports::RunOpsStores;
use runview_core::status::TaskRunStatus;
use runview_localdb::apply_recommended_indexes;
use runview_store::{PgRunStore, RunOpsTopology, list_batches_sql, list_runs_sql};
use serde_json::Value;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::support::{
    batches_query, created_at, environment, explain_analyzed, explain_generic_and_custom,
    insert_bulk_batches, insert_bulk_runs, no_batch_filter, no_run_filter, plan_nodes,
    runops_database, runs_query, scans_of,
};

/// Each list's table and the upstream index its pages walk, the same in both schemas.
const RUNS: (&str, &str) = ("TaskRun", "TaskRun_runtimeEnvironmentId_createdAt_idx");
const BATCHES: (&str, &str) = (
    "BatchTaskRun",
    "BatchTaskRun_runtimeEnvironmentId_createdAt_id_idx",
);

/// The same with runview's recommended indexes.
const RECOMMENDED_RUNS: (&str, &str) = ("TaskRun", "runview_TaskRun_environment_createdAt_id_idx");
const RECOMMENDED_BATCHES: (&str, &str) = (
    "BatchTaskRun",
    "runview_BatchTaskRun_environment_createdAt_id_idx",
);

/// Rows inserted: fixture n is created at second n, in env_<n / 10 % 5> for runs and env_<n % 5>
/// for batches.
const ROWS: i32 = 150_000;

/// The fixture of env_1 whose keyset the deep cursors hold: about 10,000 of env_1's rows are
/// newer, 20,000 older. Near the end of a window, with about twice the budget left beyond the
/// cursor, PostgreSQL may rather sort what is left, read through the same index, when it
/// estimates that cheaper than walking the budget in order; these pages are far from that end.
const DEEP: i32 = 100_011;

const SCAN_BUDGET: usize = 1_000;

/// The window a default request has (the last days), and its SQL literals.
fn window() -> (TimeWindow, &'static str) {
    let window = TimeWindow {
        start: Some(created_at(-7 * 86_400)),
        end: created_at(2 * 86_400),
    };
    (window, "'2025-12-25', '2026-01-03'")
}

/// No cursor, then a cursor deep in env_1's rows in each direction, with the SQL literals of the
/// cursor's parameters.
fn cursors(id_prefix: &str) -> [(Option<Cursor>, String); 3] {
    let keyset = Keyset {
        created_at: created_at(DEEP),
        id: format!("{id_prefix}{DEEP}"),
    };
    let cursor = |direction| {
        Some(Cursor {
            keyset: keyset.clone(),
            direction,
        })
    };
    let literals = format!(", '{}', '{}'", keyset.created_at.naive_utc(), keyset.id);
    [
        (None, String::new()),
        (cursor(Direction::Forward), literals.clone()),
        (cursor(Direction::Backward), literals),
    ]
}

fn env_1() -> EnvironmentId {
    environment("env_1")
}

/// How a page may order what its index read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Order {
    /// The index order is the page's: no sort at all.
    Index,
    /// The index orders by createdAt; an Incremental Sort orders each createdAt's rows by id.
    ThenById,
}

/// The plan reads `table` through `index` alone, stops at a limit, and sorts no more than
/// `order` allows: never the whole window.
fn assert_bounded(mode: &str, plan: &Value, (table, index): (&str, &str), order: Order) {
    let scans = scans_of(plan, table);
    assert!(
        matches!(scans[..], [("Index Scan" | "Index Only Scan", name)] if name == index),
        "{mode}: {scans:?} in {plan}"
    );
    for node in plan_nodes(plan) {
        let allowed = match node["Node Type"].as_str().unwrap_or_default() {
            "Sort" => false,
            "Incremental Sort" => {
                let presorted = node["Presorted Key"].as_array().map_or(0, Vec::len);
                order == Order::ThenById && presorted > 0
            }
            _ => true,
        };
        assert!(allowed, "{mode}: {order:?} allows no such sort in {plan}");
    }
    assert_eq!(plan["Node Type"], "Limit", "{mode}: {plan}");
}

/// Checks the plans a list statement can run with: the generic and the custom plan when it
/// stays prepared (unfiltered), the custom plan when it is planned with its values (filtered).
async fn check_plans(
    pool: &PgPool,
    (sql, arguments): (&str, &str),
    filtered: bool,
    walked: (&str, &str),
    order: Order,
) {
    for (mode, plan) in explain_generic_and_custom(pool, sql, arguments).await {
        if filtered && mode == "force_generic_plan" {
            continue;
        }
        assert_bounded(&format!("{mode} of {sql}"), &plan, walked, order);
    }
}

/// A filtered page whose value matches nothing walks exactly `budget` rows, as PostgreSQL ran
/// it: the walk's limit passes them on, and the index is read no further than the Incremental
/// Sort batch (at least 32 rows, to the end of a createdAt) the last one is in.
async fn assert_walks_the_budget(
    pool: &PgPool,
    (sql, arguments): (&str, &str),
    table: &str,
    budget: u64,
) {
    let plan = explain_analyzed(pool, sql, arguments).await;
    let nodes = plan_nodes(&plan);
    // The page's limit is the root; the walk's is the next one down.
    let walk = nodes
        .iter()
        .skip(1)
        .find(|node| node["Node Type"] == "Limit")
        .unwrap_or_else(|| panic!("no walk in {plan}"));
    assert_eq!(walk["Actual Rows"], budget, "{sql}: {plan}");
    let read = nodes
        .iter()
        .find(|node| node["Relation Name"] == table)
        .and_then(|scan| scan["Actual Rows"].as_u64())
        .unwrap_or_default();
    assert!(
        (budget..=budget + 32).contains(&read),
        "{sql} read {read} rows: {plan}"
    );
}

fn runs_page(cursor: Option<Cursor>) -> RunListQuery {
    let mut filter = no_run_filter();
    filter.window = window().0;
    RunListQuery {
        environment_id: env_1(),
        filter,
        page: PageRequest::for_page(cursor, 25),
        scan_budget: SCAN_BUDGET,
    }
}

fn batches_page(cursor: Option<Cursor>) -> BatchListQuery {
    let mut filter = no_batch_filter();
    filter.window = window().0;
    BatchListQuery {
        environment_id: env_1(),
        filter,
        page: PageRequest::for_page(cursor, 25),
        scan_budget: SCAN_BUDGET,
    }
}

#[tokio::test]
async fn run_pages_walk_the_upstream_index_with_no_filter_a_status_filter_or_a_tag_filter() {
    for residency in [Residency::Legacy, Residency::New] {
        let database = runops_database(residency).await;
        let pool = database.pool();
        insert_bulk_runs(pool, ROWS).await;

        for (cursor, cursor_literals) in cursors("bulk") {
            let head = format!("'env_1', {}{cursor_literals}", window().1);
            let query = runs_page(cursor);
            let sql = list_runs_sql(&query);
            let unfiltered = (sql.as_str(), &*format!("{head}, 26"));
            check_plans(pool, unfiltered, false, RUNS, Order::ThenById).await;

            let mut by_status = query.clone();
            by_status.filter.statuses = vec![TaskRunStatus::Executing, TaskRunStatus::Pending];
            let arguments = format!("{head}, '{{EXECUTING,PENDING}}', 26");
            let sql = list_runs_sql(&by_status);
            check_plans(pool, (&sql, &arguments), true, RUNS, Order::ThenById).await;

            let mut by_tag = query.clone();
            by_tag.filter.attributes.tags = vec!["absent".to_owned()];
            let arguments = format!("{head}, '{{absent}}', 26");
            let sql = list_runs_sql(&by_tag);
            check_plans(pool, (&sql, &arguments), true, RUNS, Order::ThenById).await;
            // A tag has an index: the walk leaves a quarter of the budget, plus one, to the
            // count and to the page of the indexed path each, and of its share the row that
            // closes the Incremental Sort's last group and the cursor's row to PostgreSQL.
            let walk_share = SCAN_BUDGET - 2 * (SCAN_BUDGET / 4 + 1);
            let walk = walk_share - 1 - usize::from(query.page.cursor.is_some());
            assert_walks_the_budget(pool, (&sql, &arguments), RUNS.0, walk as u64).await;
        }
    }
}

#[tokio::test]
async fn batch_pages_walk_the_upstream_index_with_no_filter_or_a_status_filter() {
    let database = runops_database(Residency::New).await;
    let pool = database.pool();
    insert_bulk_batches(pool, ROWS).await;

    for (cursor, cursor_literals) in cursors("bulkbatch") {
        let head = format!("'env_1', {}{cursor_literals}", window().1);
        let query = batches_page(cursor);
        let sql = list_batches_sql(&query);
        let unfiltered = (sql.as_str(), &*format!("{head}, 26"));
        check_plans(pool, unfiltered, false, BATCHES, Order::ThenById).await;

        let mut by_status = query;
        by_status.filter.attributes.statuses = vec![BatchStatus::Processing];
        let arguments = format!("{head}, '{{PROCESSING}}', 26");
        let sql = list_batches_sql(&by_status);
        check_plans(pool, (&sql, &arguments), true, BATCHES, Order::ThenById).await;
    }
}

/// What the recommended indexes are for: with them, a page is an index range with no sort.
#[tokio::test]
async fn with_the_recommended_indexes_pages_read_them_in_order_with_no_sort() {
    let database = runops_database(Residency::Legacy).await;
    let pool = database.pool();
    insert_bulk_runs(pool, ROWS).await;
    insert_bulk_batches(pool, ROWS).await;
    apply_recommended_indexes(pool)
        .await
        .expect("create the recommended indexes");

    let pages = cursors("bulk").into_iter().zip(cursors("bulkbatch"));
    for ((run_cursor, run_literals), (batch_cursor, batch_literals)) in pages {
        let runs = list_runs_sql(&runs_page(run_cursor));
        let batches = list_batches_sql(&batches_page(batch_cursor));
        let run_arguments = format!("'env_1', {}{run_literals}, 26", window().1);
        let batch_arguments = format!("'env_1', {}{batch_literals}, 26", window().1);
        let run_page = (runs.as_str(), run_arguments.as_str());
        check_plans(pool, run_page, false, RECOMMENDED_RUNS, Order::Index).await;
        let batch_page = (batches.as_str(), batch_arguments.as_str());
        check_plans(pool, batch_page, false, RECOMMENDED_BATCHES, Order::Index).await;
    }
}

#[tokio::test]
async fn only_unfiltered_list_statements_stay_prepared() {
    let database = runops_database(Residency::Legacy).await;
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(database.url())
        .await
        .expect("a one-connection pool");
    let store = PgRunStore::new(pool, Residency::Legacy);
    let topology = RunOpsTopology::passthrough(store.clone());

    let unfiltered = runs_query(no_run_filter(), 10);
    let mut by_status = unfiltered.clone();
    by_status.filter.statuses = vec![TaskRunStatus::Crashed];
    let mut batches_by_status = batches_query(no_batch_filter(), 10);
    batches_by_status.filter.attributes.statuses = vec![BatchStatus::Aborted];
    for _ in 0..2 {
        topology
            .list_runs(&unfiltered)
            .await
            .expect("the store answers");
        topology
            .list_runs(&by_status)
            .await
            .expect("the store answers");
        topology
            .list_batches(&batches_by_status)
            .await
            .expect("the store answers");
    }

    // Reads go through the store's read pool, which holds one connection like `pool`.
    let mut lease = store
        .read_pool()
        .lease()
        .await
        .expect("the read connection");
    let prepared = sqlx::query_scalar("SELECT statement FROM pg_prepared_statements")
        .fetch_all(lease.connection())
        .await;
    let prepared: Vec<String> = lease.finish(prepared).expect("the prepared statements");
    let lists: Vec<&String> = prepared
        .iter()
        .filter(|sql| sql.contains("ORDER BY"))
        .collect();
    assert_eq!(lists, [&list_runs_sql(&unfiltered)], "{prepared:#?}");
}
