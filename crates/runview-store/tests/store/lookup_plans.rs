//! Coalesced lookups: a batch of (id, environment) pairs is read by probes of the primary key, one
//! per pair, and what each probe found leads to its relations through their own indexes; nothing
//! scans a table. The statements stay prepared, so generic and custom plans alike, on 60,000
//! ANALYZEd runs and 20,000 waitpoints, each connected to a run.

use runview_core::ids::Residency;
use runview_store::{FIND_RUNS_SQL, coalesced_waitpoint_sql};
use serde_json::Value;
use sqlx::PgPool;

use crate::support::{
    explain_generic_and_custom, insert_bulk_runs, insert_bulk_tokens, runops_database, scans_of,
};

/// Lookups in one batch.
const LOOKUPS: i32 = 16;

/// The SQL literal of a text array.
fn text_array(items: impl Iterator<Item = String>) -> String {
    format!("'{{{}}}'", items.collect::<Vec<_>>().join(","))
}

/// Each table's reads are index probes through one of `indexes`, the first of which is read.
fn assert_probes(mode: &str, plan: &Value, table: &str, indexes: &[&str]) {
    let scans = scans_of(plan, table);
    let probe = |(node_type, name): &(&str, &str)| match *node_type {
        "Index Scan" | "Index Only Scan" | "Bitmap Index Scan" => indexes.contains(name),
        "Bitmap Heap Scan" => true,
        _ => false,
    };
    assert!(
        scans.iter().any(|(_, name)| *name == indexes[0]) && scans.iter().all(probe),
        "{mode}: {table} read as {scans:?} in {plan}"
    );
}

#[tokio::test]
async fn coalesced_run_lookups_probe_the_primary_key() {
    let database = runops_database(Residency::Legacy).await;
    insert_bulk_runs(database.pool(), 60_000).await;
    // bulk<g> is in env_<g / 10 % 5>; bulk<10k + 1> is a child of bulk<10k>. Every other
    // lookup asks for the wrong environment: a miss.
    let asked = (1..=LOOKUPS).map(|k| (370 * k + 1, k % 2));
    let ids = text_array(asked.clone().map(|(g, _)| format!("bulk{g}")));
    let environments = text_array(asked.map(|(g, miss)| format!("env_{}", (g / 10 + miss) % 5)));
    let per_lookup = |value: &str| text_array((1..=LOOKUPS).map(|_| value.to_owned()));
    let arguments = format!(
        "{ids}, {environments}, {}, {}",
        per_lookup("f"),
        per_lookup("101")
    );

    for (mode, plan) in explain_generic_and_custom(database.pool(), FIND_RUNS_SQL, &arguments).await
    {
        let indexes = ["TaskRun_pkey", "TaskRun_parentTaskRunId_idx"];
        assert_probes(mode, &plan, "TaskRun", &indexes);
    }
}

/// Connects token n to run `bulk<n>`, in the table `store` keeps connections in.
async fn connect_every_token(pool: &PgPool, store: Residency) {
    let sql = match store {
        Residency::Legacy => {
            r#"INSERT INTO "_WaitpointRunConnections" ("A", "B")
               SELECT 'bulk' || n, 'c' || lpad(to_hex(n), 24, '0') FROM generate_series(1, 20000) n;
               ANALYZE "_WaitpointRunConnections""#
        }
        Residency::New => {
            r#"INSERT INTO "WaitpointRunConnection" (id, "taskRunId", "waitpointId")
               SELECT 'conn' || n, 'bulk' || n, 'c' || lpad(to_hex(n), 24, '0')
               FROM generate_series(1, 20000) n;
               ANALYZE "WaitpointRunConnection""#
        }
    };
    sqlx::raw_sql(sql)
        .execute(pool)
        .await
        .expect("connect the tokens");
}

#[tokio::test]
async fn coalesced_waitpoint_lookups_probe_the_primary_key() {
    for store in [Residency::Legacy, Residency::New] {
        let database = runops_database(store).await;
        let pool = database.pool();
        insert_bulk_runs(pool, 60_000).await;
        insert_bulk_tokens(pool).await;
        connect_every_token(pool, store).await;
        // Token n is in env_1 when n % 10 = 0, else in env_<2 + n % 39>.
        let asked = (1..=LOOKUPS).map(|k| 1_231 * k);
        let ids = text_array(asked.clone().map(|n| format!("c{n:0>24x}")));
        let environment = |n: i32| match n % 10 {
            0 => "env_1".to_owned(),
            _ => format!("env_{}", 2 + n % 39),
        };
        let environments = text_array(asked.map(environment));
        let arguments = format!("{ids}, {environments}, 100");
        let connections = match store {
            Residency::Legacy => (
                "_WaitpointRunConnections",
                "_WaitpointRunConnections_B_index",
            ),
            Residency::New => (
                "WaitpointRunConnection",
                "WaitpointRunConnection_waitpointId_idx",
            ),
        };

        let [find_many, connected_runs_many] = coalesced_waitpoint_sql(store);
        for (mode, plan) in explain_generic_and_custom(pool, find_many, &arguments).await {
            assert_probes(mode, &plan, "Waitpoint", &["Waitpoint_pkey"]);
            assert_probes(mode, &plan, connections.0, &[connections.1]);
            assert_probes(mode, &plan, "TaskRun", &["TaskRun_pkey"]);
        }
        for (mode, plan) in explain_generic_and_custom(pool, connected_runs_many, &arguments).await
        {
            assert_probes(mode, &plan, connections.0, &[connections.1]);
            assert_probes(mode, &plan, "TaskRun", &["TaskRun_pkey"]);
        }
    }
}
