//! A filtered ListRuns walk that stops short may be after a rare value an upstream index serves;
//! the count that proves the value rare and the page read instead of the walk then go through
//! that index: the GIN on "runTags" for a tag, the unique index led by ("runtimeEnvironmentId",
//! "taskIdentifier") for a task, ("runtimeEnvironmentId", "batchId") for a batch. Neither reads
//! the environment's window. Both are planned with their values (never kept prepared), on 60,000
//! ANALYZEd runs, 12,000 of them in env_1, 60 of which carry the rare values.

use runview_core::filter::RunListQuery;
use runview_core::ids::Residency;
use runview_core::page::{Cursor, Direction, Keyset, PageRequest, TimeWindow};
use runview_store::list_runs_indexed_sql;
use sqlx::PgPool;

use crate::support::{
    created_at, environment, explain_generic_and_custom, insert_bulk_runs, no_run_filter,
    runops_database, scans_of,
};

const SCAN_BUDGET: usize = 1_000;

/// Gives every thousandth run of env_1 (`bulk<1000k + 10>`) a tag, a task and a batch no other
/// run has.
async fn insert_runs_with_rare_values(pool: &PgPool) {
    insert_bulk_runs(pool, 60_000).await;
    sqlx::raw_sql(
        r#"
        UPDATE "TaskRun"
        SET "runTags" = ARRAY['rare'], "taskIdentifier" = 'rare/task', "batchId" = 'batch_rare'
        WHERE substr(id, 5)::int % 1000 = 10;
        ANALYZE "TaskRun";
        "#,
    )
    .execute(pool)
    .await
    .expect("mark the rare runs");
}

/// A page of env_1 over the whole data set, with no filter yet.
fn page(cursor: Option<Cursor>) -> RunListQuery {
    let mut filter = no_run_filter();
    filter.window = TimeWindow {
        start: None,
        end: created_at(86_400),
    };
    RunListQuery {
        environment_id: environment("env_1"),
        filter,
        page: PageRequest::for_page(cursor, 25),
        scan_budget: SCAN_BUDGET,
    }
}

/// Each rare value: how a query asks for it, its SQL literal, and the index that serves it.
type Case = (fn(&mut RunListQuery), &'static str, &'static str);

fn cases() -> [Case; 3] {
    [
        (
            |query| query.filter.attributes.tags = vec!["rare".to_owned()],
            "'{rare}'",
            "TaskRun_runTags_idx",
        ),
        (
            |query| query.filter.attributes.task_identifiers = vec!["rare/task".to_owned()],
            "'{rare/task}'",
            "TaskRun_runtimeEnvironmentId_taskIdentifier_idempotencyKey_key",
        ),
        (
            |query| query.filter.batch_id = Some("batch_rare".to_owned()),
            "'batch_rare'",
            "TaskRun_runtimeEnvironmentId_batchId_idx",
        ),
    ]
}

#[tokio::test]
async fn a_rare_tag_task_or_batch_is_counted_and_paged_through_its_upstream_index() {
    for residency in [Residency::Legacy, Residency::New] {
        let database = runops_database(residency).await;
        let pool = database.pool();
        insert_runs_with_rare_values(pool).await;
        let deep = Cursor {
            keyset: Keyset {
                created_at: created_at(40_011),
                id: "bulk40011".to_owned(),
            },
            direction: Direction::Forward,
        };
        let cursors = [
            (None, String::new()),
            (
                Some(deep),
                ", '2026-01-01 11:06:51', 'bulk40011'".to_owned(),
            ),
        ];
        for (cursor, cursor_literals) in cursors {
            for (ask, value, index) in cases() {
                let mut query = page(cursor.clone());
                ask(&mut query);
                let (count, page) = list_runs_indexed_sql(&query).expect("an indexed filter");
                let head = format!("'env_1', '2026-01-02'{cursor_literals}, {value}");
                let statements = [
                    (count, format!("{head}, 1001")),
                    (page, format!("{head}, 26")),
                ];
                for (sql, arguments) in statements {
                    check_reads_through(pool, &sql, &arguments, index).await;
                }
            }
        }
    }
}

/// The custom plan of `sql` reads "TaskRun" through `index`, as an index scan or a bitmap heap
/// scan over it, and through indexes only.
async fn check_reads_through(pool: &PgPool, sql: &str, arguments: &str, index: &str) {
    let plans = explain_generic_and_custom(pool, sql, arguments).await;
    let (_, plan) = plans
        .iter()
        .find(|(mode, _)| *mode == "force_custom_plan")
        .expect("a custom plan");
    let scans = scans_of(plan, "TaskRun");
    // PostgreSQL may AND the index with another one that narrows to the environment.
    let indexed = |(node_type, _): &(&str, &str)| {
        node_type.contains("Index") || node_type.starts_with("Bitmap")
    };
    assert!(
        scans.iter().any(|(_, name)| *name == index) && scans.iter().all(indexed),
        "{scans:?} in {plan} of {sql}"
    );
}
