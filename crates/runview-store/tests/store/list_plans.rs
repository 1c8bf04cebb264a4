//! The list statements read a page as one index range in index order, never sorting an
//! environment's rows, on a few thousand ANALYZEd rows per environment.
//!
//! The unfiltered walk stays prepared, so its generic plan matters as much as its custom plan.
//! A filtered statement is planned with its values every time (it is never kept prepared, as the
//! last test shows), so its custom plan is the one that runs.

use runview_core::batch::BatchStatus;
use runview_core::filter::{BatchListQuery, RunListQuery};
use runview_core::ids::{EnvironmentId, Residency};
use runview_core::page::{Cursor, Direction, Keyset, PageRequest, TimeWindow};
use runview_core::ports::RunOpsStores;
use runview_core::status::TaskRunStatus;
use runview_store::{PgRunStore, RunOpsTopology, list_batches_sql, list_runs_sql};
use serde_json::Value;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::support::{
    batches_query, created_at, environment, explain_generic_and_custom, insert_bulk_batches,
    insert_bulk_runs, no_batch_filter, no_run_filter, plan_nodes, runops_database, runs_query,
};

/// Each list's table and the index its pages walk.
const RUNS: (&str, &str) = ("TaskRun", "runview_TaskRun_environment_createdAt_id_idx");
const BATCHES: (&str, &str) = (
    "BatchTaskRun",
    "runview_BatchTaskRun_environment_createdAt_id_idx",
);

/// The window a default request has (the last days), and its SQL literals.
fn window() -> (TimeWindow, &'static str) {
    let window = TimeWindow {
        start: Some(created_at(-7 * 86_400)),
        end: created_at(86_400),
    };
    (window, "'2025-12-25', '2026-01-02'")
}

/// No cursor, then a cursor in the middle of env_1's rows in each direction, with the SQL
/// literals of the cursor's parameters.
fn cursors(id: &str) -> [(Option<Cursor>, String); 3] {
    let keyset = Keyset {
        created_at: created_at(7_211),
        id: id.to_owned(),
    };
    let cursor = |direction| {
        Some(Cursor {
            keyset: keyset.clone(),
            direction,
        })
    };
    let literals = format!(", '2026-01-01 02:00:11', '{id}'");
    [
        (None, String::new()),
        (cursor(Direction::Forward), literals.clone()),
        (cursor(Direction::Backward), literals),
    ]
}

fn env_1() -> EnvironmentId {
    environment("env_1")
}

/// The plan reads `table` through `index` in index order, stopping at the page's limit, and
/// sorts nothing.
fn assert_index_range(mode: &str, plan: &Value, table: &str, index: &str) {
    let nodes = plan_nodes(plan);
    let scans: Vec<(&str, &str)> = nodes
        .iter()
        .filter(|node| node["Relation Name"] == table)
        .map(|node| {
            let node_type = node["Node Type"].as_str().unwrap_or_default();
            (node_type, node["Index Name"].as_str().unwrap_or_default())
        })
        .collect();
    assert!(
        matches!(scans[..], [("Index Scan" | "Index Only Scan", name)] if name == index),
        "{mode}: {scans:?} in {plan}"
    );
    let sorts = nodes.iter().filter(|node| {
        let node_type = node["Node Type"].as_str().unwrap_or_default();
        node_type.ends_with("Sort")
    });
    assert_eq!(sorts.count(), 0, "{mode}: a sort in {plan}");
    assert_eq!(plan["Node Type"], "Limit", "{mode}: {plan}");
}

/// Checks the plans a list statement can run with: the generic and the custom plan when it
/// stays prepared (unfiltered), the custom plan when it is planned with its values (filtered).
async fn check_plans(
    pool: &PgPool,
    sql: &str,
    arguments: &str,
    filtered: bool,
    (table, index): (&str, &str),
) {
    for (mode, plan) in explain_generic_and_custom(pool, sql, arguments).await {
        if filtered && mode == "force_generic_plan" {
            continue;
        }
        assert_index_range(&format!("{mode} of {sql}"), &plan, table, index);
    }
}

#[tokio::test]
async fn run_pages_are_index_ranges_with_no_filter_a_status_filter_or_a_tag_filter() {
    let database = runops_database(Residency::Legacy).await;
    insert_bulk_runs(database.pool(), 15_000).await;
    let (window, window_literals) = window();

    for (cursor, cursor_literals) in cursors("bulk7211") {
        let page = PageRequest::for_page(cursor, 25);
        let head = format!("'env_1', {window_literals}{cursor_literals}");

        let mut filter = no_run_filter();
        filter.window = window;
        let query = RunListQuery {
            environment_id: env_1(),
            filter,
            page: page.clone(),
            scan_budget: 1_000,
        };
        let sql = list_runs_sql(&query);
        check_plans(database.pool(), &sql, &format!("{head}, 26"), false, RUNS).await;

        let mut by_status = query.clone();
        by_status.filter.statuses = vec![TaskRunStatus::Executing, TaskRunStatus::Pending];
        let arguments = format!("{head}, 1000, '{{EXECUTING,PENDING}}', 26");
        let sql = list_runs_sql(&by_status);
        check_plans(database.pool(), &sql, &arguments, true, RUNS).await;

        let mut by_tag = query.clone();
        by_tag.filter.attributes.tags = vec!["tag1".to_owned()];
        let arguments = format!("{head}, 1000, '{{tag1}}', 26");
        let sql = list_runs_sql(&by_tag);
        check_plans(database.pool(), &sql, &arguments, true, RUNS).await;
    }
}

#[tokio::test]
async fn batch_pages_are_index_ranges_with_no_filter_or_a_status_filter() {
    let database = runops_database(Residency::Legacy).await;
    insert_bulk_batches(database.pool(), 15_000).await;
    let (window, window_literals) = window();

    for (cursor, cursor_literals) in cursors("bulkbatch7211") {
        let page = PageRequest::for_page(cursor, 25);
        let head = format!("'env_1', {window_literals}{cursor_literals}");
        let mut filter = no_batch_filter();
        filter.window = window;
        let query = BatchListQuery {
            environment_id: env_1(),
            filter,
            page,
            scan_budget: 1_000,
        };
        let sql = list_batches_sql(&query);
        check_plans(
            database.pool(),
            &sql,
            &format!("{head}, 26"),
            false,
            BATCHES,
        )
        .await;

        let mut by_status = query;
        by_status.filter.attributes.statuses = vec![BatchStatus::Processing];
        let arguments = format!("{head}, 1000, '{{PROCESSING}}', 26");
        let sql = list_batches_sql(&by_status);
        check_plans(database.pool(), &sql, &arguments, true, BATCHES).await;
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
