//! `runview-load ids` against two throwaway run-ops databases standing for LEGACY and NEW.

use std::process::Command;

use runview_localdb::Schema;
use runview_localdb::testing::TestDatabase;
use serde_json::{Value, json};

async fn insert_runs(database: &TestDatabase, environment: &str, ids: &[&str]) -> sqlx::Result<()> {
    for (minute, id) in ids.iter().enumerate() {
        sqlx::query(
            r#"INSERT INTO "TaskRun" ("id", "friendlyId", "taskIdentifier", "runtimeEnvironmentId",
                   "projectId", "payload", "traceId", "spanId", "queue", "createdAt", "updatedAt")
               VALUES ($1, $2, 'task', $3, 'project', '{}', 'trace', 'span', 'queue',
                   now() - make_interval(mins => $4), now())"#,
        )
        .bind(format!("id_{id}"))
        .bind(id)
        .bind(environment)
        .bind(minute as i32)
        .execute(database.pool())
        .await?;
    }
    Ok(())
}

#[tokio::test]
async fn writes_a_ghz_data_array_mixing_every_database() -> anyhow::Result<()> {
    let legacy = TestDatabase::create(&[Schema::Full]).await;
    let new = TestDatabase::create(&[Schema::RunOps]).await;
    insert_runs(&legacy, "env_a", &["run_l1", "run_l2", "run_l3"]).await?;
    insert_runs(&legacy, "env_b", &["run_other"]).await?;
    insert_runs(&new, "env_a", &["run_n1"]).await?;
    let output_file = tempfile::NamedTempFile::new()?;

    let (legacy_url, new_url) = (legacy.url().to_owned(), new.url().to_owned());
    let output_path = output_file.path().to_owned();
    let status = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_runview-load"))
            .args([
                "ids",
                "--kind",
                "runs",
                "--environment",
                "env_a",
                "--limit",
                "3",
            ])
            .args(["--database-url", &legacy_url, "--database-url", &new_url])
            .args(["--extra", r#"{"view": "RUN_VIEW_FULL"}"#, "-o"])
            .arg(&output_path)
            .status()
    })
    .await??;
    assert!(status.success());

    // Newest first within each database, alternating between them.
    let written: Value = serde_json::from_slice(&std::fs::read(output_file.path())?)?;
    let full =
        |run: &str| json!({"environment_id": "env_a", "run_id": run, "view": "RUN_VIEW_FULL"});
    assert_eq!(
        written,
        json!([full("run_l1"), full("run_n1"), full("run_l2")])
    );
    Ok(())
}
