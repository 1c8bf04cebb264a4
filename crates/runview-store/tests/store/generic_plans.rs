//! Every statement a store keeps prepared is planned once: after PostgreSQL's five custom plans
//! it keeps the generic one, instead of planning again on every execution (which, for a page or a
//! batch of lookups, costs more than running the statement). Checked on one connection's own
//! record of its prepared statements, over ANALYZEd rows skewed towards one environment.

use runview_core::filter::{BatchFilter, BatchListQuery, RunFilter, RunListQuery};
use runview_core::ids::{BatchId, Residency, RunId};
use runview_core::page::{Cursor, Direction, Keyset, PageRequest, TimeWindow};
use runview_core::ports::{RunLookup, RunOpsStores};
use runview_store::{PgRunStore, RunOpsTopology};
use sqlx::PgPool;

use crate::support::{
    created_at, environment, insert_bulk_batches, one_connection_store, runops_database,
    started_together,
};

/// More executions than the five custom plans PostgreSQL makes before it weighs the generic one.
const EXECUTIONS: usize = 8;

/// 40,000 runs, 30,000 of them in env_big, and 2,000 batches, ANALYZEd.
async fn skewed_rows(pool: &PgPool) {
    sqlx::query(
        r#"
        INSERT INTO "TaskRun" (
            id, "friendlyId", "taskIdentifier", "runtimeEnvironmentId", "projectId", payload,
            "traceId", "spanId", queue, "parentTaskRunId", "createdAt", "updatedAt", status
        )
        SELECT 'skew' || g, 'run_skew' || g, 'email/send',
               CASE WHEN g % 4 = 0 THEN 'env_small' || g % 10 ELSE 'env_big' END, 'proj_1', '{}',
               'trace', 'span' || g, 'task/email/send',
               CASE WHEN g % 10 <> 0 THEN 'skew' || (g - g % 10) END,
               timestamp '2026-01-01' + make_interval(secs => g), now(), 'EXECUTING'
        FROM generate_series(1, 40000) AS g
        "#,
    )
    .execute(pool)
    .await
    .expect("insert skewed runs");
    insert_bulk_batches(pool, 2_000).await;
    for table in [r#""TaskRun""#, r#""BatchTaskRun""#] {
        sqlx::query(&format!("ANALYZE {table}"))
            .execute(pool)
            .await
            .expect("analyze");
    }
}

fn window() -> TimeWindow {
    TimeWindow {
        start: Some(created_at(0)),
        end: created_at(50_000),
    }
}

fn page(cursor_at: Option<i32>) -> PageRequest {
    let cursor = cursor_at.map(|second| Cursor {
        keyset: Keyset {
            created_at: created_at(second),
            id: format!("skew{second}"),
        },
        direction: Direction::Forward,
    });
    PageRequest::for_page(cursor, 25)
}

fn run_lookup(n: usize) -> RunLookup {
    RunLookup {
        environment_id: environment("env_big"),
        run_id: RunId::from_stored(format!("skew{}", 10 * n + 1)),
        include_bodies: n.is_multiple_of(2),
        children_limit: 100,
    }
}

/// The prepared statements of the store's only connection: text, generic plans, custom plans.
async fn prepared_statements(store: &PgRunStore) -> Vec<(String, i64, i64)> {
    let mut lease = store
        .read_pool()
        .lease()
        .await
        .expect("the only connection");
    let rows =
        sqlx::query_as("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements")
            .fetch_all(lease.connection())
            .await;
    lease
        .finish(rows)
        .expect("the connection's prepared statements")
}

#[tokio::test]
async fn prepared_statements_keep_their_generic_plan() {
    let database = runops_database(Residency::Legacy).await;
    skewed_rows(database.pool()).await;
    let store = one_connection_store(&database, Residency::Legacy);
    let topology = RunOpsTopology::passthrough(store.clone());
    let env_big = environment("env_big");
    let batch_ids: Vec<BatchId> = (1..=25)
        .map(|n| BatchId::from_stored(format!("bulkbatch{n}")))
        .collect();

    for round in 0..EXECUTIONS {
        store.find_run(&run_lookup(round)).await.expect("a lookup");
        // The first lookup goes out alone, the two queued behind it in one statement.
        let lookups: Vec<RunLookup> = (round..round + 3).map(run_lookup).collect();
        let calls = lookups
            .iter()
            .map(|lookup| Box::pin(store.find_run(lookup)));
        for answer in started_together(&[&store], calls.collect()).await {
            answer.expect("a coalesced lookup");
        }
        for cursor_at in [None, Some(20_000 + i32::try_from(round).unwrap_or(0))] {
            let runs = RunListQuery {
                environment_id: env_big.clone(),
                filter: RunFilter::any_in(window()),
                page: page(cursor_at),
                scan_budget: 1_000,
            };
            topology.list_runs(&runs).await.expect("a page of runs");
            let batches = BatchListQuery {
                environment_id: environment("env_1"),
                filter: BatchFilter::any_in(window()),
                page: page(None),
                scan_budget: 1_000,
            };
            topology
                .list_batches(&batches)
                .await
                .expect("a page of batches");
        }
        topology
            .count_batch_runs(&env_big, &batch_ids)
            .await
            .expect("run counts");
    }

    let mut statements = prepared_statements(&store).await;
    statements.retain(|(text, _, _)| !text.contains("pg_prepared_statements"));
    let replanned: Vec<_> = statements
        .iter()
        .filter(|(_, generic, _)| *generic == 0)
        .collect();
    assert!(
        replanned.is_empty(),
        "planned again on every execution: {replanned:#?}"
    );
    // A lookup alone and coalesced, two run pages, a batch page and the batch run counts.
    assert_eq!(statements.len(), 6, "{statements:#?}");
}
