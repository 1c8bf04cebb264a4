//! Seeding into real PostgreSQL databases holding the reference schemas.

mod skew;
mod support;

use runview_localdb::testing::TestDatabase;
use runview_seed::{DeploymentUrls, SeedPlan, create_and_seed};

use support::{CONNECTIONS, ControlPlane, Split, count, digest, scalar, small_plan, table_exists};

#[tokio::test]
async fn seeding_three_databases_loads_the_planned_counts() {
    let dbs = Split::create().await;
    let plan = small_plan();
    let report = dbs.seed(&plan).await;

    assert_eq!(report.runs_legacy, plan.runs_legacy() as u64);
    assert_eq!(report.runs_new, plan.runs_new() as u64);
    let [legacy, new] = dbs.stores();
    assert_eq!(count(legacy, "TaskRun").await, report.runs_legacy);
    assert_eq!(count(new, "TaskRun").await, report.runs_new);
    assert_eq!(count(legacy, "BatchTaskRun").await, report.batches_legacy);
    assert_eq!(count(new, "BatchTaskRun").await, report.batches_new);
    assert_eq!(
        count(legacy, "BatchTaskRunError").await,
        report.batch_errors_legacy
    );
    assert_eq!(
        count(new, "BatchTaskRunError").await,
        report.batch_errors_new
    );
    assert_eq!(count(legacy, "Waitpoint").await, report.waitpoints_legacy);
    assert_eq!(count(new, "Waitpoint").await, report.waitpoints_new);
    assert_eq!(
        count(legacy, "TaskRunAttempt").await,
        report.attempts_legacy
    );
    assert_eq!(count(new, "TaskRunAttempt").await, report.attempts_new);
    // Each store's connections are in its own table: LEGACY has no "WaitpointRunConnection".
    let connections = [
        report.waitpoint_connections_legacy,
        report.waitpoint_connections_new,
    ];
    for ((store, table), expected) in dbs.stores().into_iter().zip(CONNECTIONS).zip(connections) {
        assert_eq!(count(store, table.table).await, expected, "{}", table.table);
        assert!(expected > 0, "{} has connections", table.table);
    }
    assert!(!table_exists(legacy, "WaitpointRunConnection").await);
    assert!(!table_exists(new, "_WaitpointRunConnections").await);

    let cp = dbs.control_plane.pool();
    assert_eq!(
        count(cp, "Organization").await,
        report.control_plane.organizations
    );
    assert_eq!(
        count(cp, "RuntimeEnvironment").await,
        report.control_plane.environments
    );
    assert_eq!(
        count(cp, "BackgroundWorker").await,
        report.control_plane.workers
    );
    assert_eq!(
        count(cp, "TaskSchedule").await,
        report.control_plane.schedules
    );
    assert!(report.control_plane.organizations >= 3);
    assert!(report.control_plane.environments >= 6);

    for store in dbs.stores() {
        let statuses = "SELECT count(DISTINCT status) FROM \"TaskRun\"";
        assert_eq!(scalar(store, statuses).await, 17, "every run status");
        let statuses = "SELECT count(DISTINCT status) FROM \"BatchTaskRun\"";
        assert_eq!(scalar(store, statuses).await, 5, "every batch status");
        let kinds = "SELECT count(DISTINCT type) FROM \"Waitpoint\"";
        assert_eq!(
            scalar(store, kinds).await,
            3,
            "MANUAL, RUN and BATCH waitpoints"
        );
        // runCount counts the items: the runs, and the items that could not be triggered.
        let miscounted = r#"SELECT count(*) FROM "BatchTaskRun" b
            WHERE b."runCount" - coalesce(b."failedRunCount", 0)
                <> (SELECT count(*) FROM "TaskRun" r WHERE r."batchId" = b.id)"#;
        assert_eq!(
            scalar(store, miscounted).await,
            0,
            "runCount matches the batch's items"
        );
        let ties = r#"SELECT count(*) FROM (SELECT "createdAt" FROM "TaskRun"
            GROUP BY "runtimeEnvironmentId", "createdAt" HAVING count(*) > 1) t"#;
        assert!(scalar(store, ties).await > 0, "some runs share a createdAt");
    }
}

type RunReferences = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

#[tokio::test]
async fn every_reference_of_the_run_ops_stores_exists_in_the_control_plane() {
    let dbs = Split::create().await;
    dbs.seed(&small_plan()).await;
    let control_plane = ControlPlane::load(dbs.control_plane.pool()).await;

    for store in dbs.stores() {
        let runs: Vec<RunReferences> = sqlx::query_as(
            r#"SELECT DISTINCT "runtimeEnvironmentId", "projectId", "organizationId",
                   "environmentType"::text, "lockedToVersionId", "taskVersion", "scheduleId"
               FROM "TaskRun""#,
        )
        .fetch_all(store)
        .await
        .expect("run references");
        for (environment, project, organization, kind, worker, version, schedule) in runs {
            let (env_project, env_organization, env_kind) =
                &control_plane.environments[&environment];
            assert_eq!(env_project, &project);
            // Absent on the oldest runs, as upstream, and then absent together.
            assert_eq!(organization.is_some(), kind.is_some());
            if let (Some(organization), Some(kind)) = (organization, kind) {
                assert_eq!(env_organization, &organization);
                assert_eq!(env_kind, &kind);
            }
            if let Some(worker) = worker {
                let (worker_environment, worker_version) = &control_plane.workers[&worker];
                assert_eq!(
                    worker_environment, &environment,
                    "locked to a worker of its env"
                );
                assert_eq!(Some(worker_version), version.as_ref());
            }
            if let Some(schedule) = schedule {
                assert_eq!(
                    control_plane.schedules[&schedule], project,
                    "a schedule of its project"
                );
            }
        }
        let waitpoints: Vec<(String, String)> = sqlx::query_as(
            r#"SELECT DISTINCT "environmentId", "projectId" FROM "Waitpoint"
               UNION SELECT DISTINCT "runtimeEnvironmentId", '' FROM "BatchTaskRun""#,
        )
        .fetch_all(store)
        .await
        .expect("waitpoint and batch references");
        for (environment, project) in waitpoints {
            let (env_project, _, _) = &control_plane.environments[&environment];
            assert!(project.is_empty() || env_project == &project);
        }
    }
}

#[tokio::test]
async fn trees_batches_and_connections_stay_within_one_store() {
    let dbs = Split::create().await;
    dbs.seed(&small_plan()).await;

    for store in dbs.stores() {
        let broken_parents = r#"SELECT count(*) FROM "TaskRun" c
            LEFT JOIN "TaskRun" p ON p.id = c."parentTaskRunId"
            LEFT JOIN "TaskRun" r ON r.id = c."rootTaskRunId"
            WHERE c."parentTaskRunId" IS NOT NULL
              AND (p.id IS NULL OR r.id IS NULL OR r."rootTaskRunId" IS NOT NULL
                   OR p."runtimeEnvironmentId" <> c."runtimeEnvironmentId"
                   OR c.depth <> p.depth + 1 OR c."createdAt" <= p."createdAt")"#;
        assert_eq!(
            scalar(store, broken_parents).await,
            0,
            "parents and roots in the same store"
        );
        let roots = r#"SELECT count(*) FROM "TaskRun"
            WHERE ("parentTaskRunId" IS NULL) <> ("rootTaskRunId" IS NULL)
               OR ("parentTaskRunId" IS NULL AND depth <> 0)"#;
        assert_eq!(
            scalar(store, roots).await,
            0,
            "roots have depth 0 and no lineage"
        );
        let orphans = r#"SELECT count(*) FROM "TaskRun" r
            WHERE r."batchId" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "BatchTaskRun" b
                WHERE b.id = r."batchId" AND b."runtimeEnvironmentId" = r."runtimeEnvironmentId")"#;
        assert_eq!(
            scalar(store, orphans).await,
            0,
            "batch runs live with their batch"
        );
        let wide = r#"SELECT count(*) FROM (SELECT "parentTaskRunId" FROM "TaskRun"
            WHERE "parentTaskRunId" IS NOT NULL GROUP BY 1 HAVING count(*) > 100) w"#;
        assert!(
            scalar(store, wide).await >= 1,
            "a parent with more than 100 children"
        );
    }
    for (store, connections) in dbs.stores().into_iter().zip(CONNECTIONS) {
        let detached = format!(
            r#"SELECT count(*) FROM "{}" c
               WHERE NOT EXISTS (SELECT 1 FROM "TaskRun" r WHERE r.id = c."{}")"#,
            connections.table, connections.run
        );
        assert_eq!(
            scalar(store, &detached).await,
            0,
            "connections live with their runs"
        );
    }
}

/// Which seeded store holds a row, by table and bare id.
async fn stores_holding(dbs: &Split, table: &str, friendly_id: &str) -> Vec<&'static str> {
    let id = friendly_id
        .split_once('_')
        .map_or(friendly_id, |(_, body)| body);
    let mut found = Vec::new();
    for (name, store) in ["legacy", "new"].into_iter().zip(dbs.stores()) {
        let sql = format!("SELECT count(*) FROM \"{table}\" WHERE id = '{id}'");
        if scalar(store, &sql).await == 1 {
            found.push(name);
        }
    }
    found
}

#[tokio::test]
async fn highlights_point_at_real_rows_in_the_right_store() {
    let dbs = Split::create().await;
    let h = dbs.seed(&small_plan()).await.highlights;

    let expected = [
        ("TaskRun", &h.legacy_run_id, "legacy"),
        ("TaskRun", &h.new_run_id, "new"),
        ("TaskRun", &h.misfiled_new_run_id, "new"),
        ("TaskRun", &h.misfiled_legacy_run_id, "legacy"),
        ("TaskRun", &h.wide_parent_run_id, "new"),
        ("TaskRun", &h.child_run_id, "new"),
        ("Waitpoint", &h.legacy_waitpoint_id, "legacy"),
        ("Waitpoint", &h.new_waitpoint_id, "new"),
        ("BatchTaskRun", &h.legacy_batch_id, "legacy"),
        ("BatchTaskRun", &h.new_batch_id, "new"),
        ("BatchTaskRun", &h.cuid_batch_in_new_id, "new"),
    ];
    for (table, id, store) in expected {
        assert_eq!(
            stores_holding(&dbs, table, id).await,
            [store],
            "{table} {id}"
        );
    }
    assert!(h.misfiled_new_run_id.starts_with("run_c") && h.misfiled_new_run_id.len() == 29);
    assert!(h.misfiled_legacy_run_id.len() == 30 && h.legacy_run_id.len() == 29);
    assert!(h.cuid_batch_in_new_id.starts_with("batch_c"));

    let [legacy, new] = dbs.stores();
    let production = &h.production_environment_id;
    let elsewhere = format!(
        r#"SELECT count(*) FROM "TaskRun" WHERE "friendlyId" = ANY(ARRAY['{}','{}','{}','{}','{}'])
           AND "runtimeEnvironmentId" = '{production}'"#,
        h.new_run_id,
        h.misfiled_new_run_id,
        h.wide_parent_run_id,
        h.child_run_id,
        h.misfiled_legacy_run_id
    );
    assert_eq!(
        scalar(new, &elsewhere).await + scalar(legacy, &elsewhere).await,
        5
    );
    let children = format!(
        r#"SELECT count(*) FROM "TaskRun" c JOIN "TaskRun" p ON p.id = c."parentTaskRunId"
           WHERE p."friendlyId" = '{}'"#,
        h.wide_parent_run_id
    );
    assert!(scalar(new, &children).await > 100);
    let child = format!(
        r#"SELECT count(*) FROM "TaskRun" WHERE "friendlyId" = '{}'
           AND "parentTaskRunId" <> "rootTaskRunId""#,
        h.child_run_id
    );
    assert_eq!(scalar(new, &child).await, 1);
    let output = format!(
        r#"SELECT count(*) FROM "TaskRun" WHERE "friendlyId" = '{}'
           AND status = 'COMPLETED_SUCCESSFULLY' AND "outputType" = 'application/json'
           AND output IS NOT NULL"#,
        h.new_run_id
    );
    assert_eq!(scalar(new, &output).await, 1);
    let mut connected = 0;
    for (store, connections) in dbs.stores().into_iter().zip(CONNECTIONS) {
        let sql = format!(
            r#"SELECT count(*) FROM "{}" WHERE "{}" = '{}'"#,
            connections.table,
            connections.waitpoint,
            &h.legacy_waitpoint_id["waitpoint_".len()..]
        );
        connected += scalar(store, &sql).await;
    }
    assert!(connected > 5);

    let cp = dbs.control_plane.pool();
    let schedule = format!(
        r#"SELECT count(*) FROM "TaskSchedule" WHERE "friendlyId" = '{}'"#,
        h.schedule_id
    );
    assert_eq!(scalar(cp, &schedule).await, 1);
    let owner = format!(
        r#"SELECT count(*) FROM "RuntimeEnvironment" e JOIN "OrgMember" m ON m.id = e."orgMemberId"
           JOIN "User" u ON u.id = m."userId"
           WHERE e.id = '{}' AND e.type = 'DEVELOPMENT' AND u."displayName" IS NOT NULL"#,
        h.development_environment_id
    );
    assert_eq!(scalar(cp, &owner).await, 1);
    let orphan = format!(
        r#"SELECT count(*) FROM "RuntimeEnvironment" e WHERE e.id = '{}' AND e.type = 'DEVELOPMENT'
           AND NOT EXISTS (SELECT 1 FROM "OrgMember" m WHERE m.id = e."orgMemberId")"#,
        h.orphaned_development_environment_id
    );
    assert_eq!(scalar(cp, &orphan).await, 1);
    let branch = format!(
        r#"SELECT count(*) FROM "RuntimeEnvironment" e JOIN "RuntimeEnvironment" p
           ON p.id = e."parentEnvironmentId" WHERE e.id = '{}' AND e."branchName" IS NOT NULL"#,
        h.branch_environment_id
    );
    assert_eq!(scalar(cp, &branch).await, 1);
}

#[tokio::test]
async fn seeding_is_deterministic_for_a_seed() {
    let (first, second) = (Split::create().await, Split::create().await);
    let plan = small_plan();
    let (a, b) = (first.seed(&plan).await, second.seed(&plan).await);
    assert_eq!(a.highlights, b.highlights);

    for table in [
        "RuntimeEnvironment",
        "BackgroundWorker",
        "TaskSchedule",
        "User",
    ] {
        let (a, b) = (first.control_plane.pool(), second.control_plane.pool());
        assert_eq!(digest(a, table).await, digest(b, table).await, "{table}");
    }
    let stores = first.stores().into_iter().zip(second.stores());
    for ((a, b), connections) in stores.zip(CONNECTIONS) {
        for table in [
            "TaskRun",
            "TaskRunAttempt",
            "BatchTaskRun",
            "BatchTaskRunError",
            "Waitpoint",
            connections.table,
        ] {
            assert_eq!(digest(a, table).await, digest(b, table).await, "{table}");
        }
    }
}

#[tokio::test]
async fn passthrough_seeds_everything_into_one_database() {
    // Empty: one URL named for every role gets the full schema once, then every row.
    let db = TestDatabase::create(&[]).await;
    let plan = small_plan();
    let urls = DeploymentUrls {
        control_plane: db.url(),
        legacy: db.url(),
        new: db.url(),
    };
    let report = create_and_seed(urls, &plan)
        .await
        .expect("seeding succeeds");

    assert_eq!(count(db.pool(), "TaskRun").await, plan.runs as u64);
    assert_eq!(report.runs_legacy + report.runs_new, plan.runs as u64);
    let waitpoints = report.waitpoints_legacy + report.waitpoints_new;
    assert_eq!(count(db.pool(), "Waitpoint").await, waitpoints);
    // The one database is LEGACY's: NEW's runs keep their connections in its table too.
    let connections = report.waitpoint_connections_legacy + report.waitpoint_connections_new;
    assert!(report.waitpoint_connections_new > 0);
    assert_eq!(
        count(db.pool(), "_WaitpointRunConnections").await,
        connections
    );
    let attempts = report.attempts_legacy + report.attempts_new;
    assert_eq!(count(db.pool(), "TaskRunAttempt").await, attempts);
    assert_eq!(
        count(db.pool(), "RuntimeEnvironment").await,
        report.control_plane.environments
    );
}

/// A share in percent, for messages.
async fn percent(store: &sqlx::PgPool, part: &str, whole: &str) -> f64 {
    let (part, whole) = (scalar(store, part).await, scalar(store, whole).await);
    assert!(whole > 0, "{whole}");
    100.0 * part as f64 / whole as f64
}

#[tokio::test]
async fn nullable_columns_are_null_as_the_upstream_leaves_them() {
    let dbs = Split::create().await;
    dbs.seed(&small_plan()).await;

    for (name, store) in ["LEGACY", "NEW"].into_iter().zip(dbs.stores()) {
        // Most runs and tokens are untagged, and untagged means NULL, never an empty array.
        let untagged = percent(
            store,
            r#"SELECT count(*) FROM "TaskRun" WHERE "runTags" IS NULL"#,
            r#"SELECT count(*) FROM "TaskRun""#,
        )
        .await;
        assert!(
            (55.0..80.0).contains(&untagged),
            "{name}: {untagged}% untagged runs"
        );
        let empty = r#"SELECT count(*) FROM "TaskRun" WHERE cardinality("runTags") = 0"#;
        assert_eq!(scalar(store, empty).await, 0, "{name}: no empty tag arrays");
        let untagged_tokens = percent(
            store,
            r#"SELECT count(*) FROM "Waitpoint" WHERE type = 'MANUAL' AND tags IS NULL"#,
            r#"SELECT count(*) FROM "Waitpoint" WHERE type = 'MANUAL'"#,
        )
        .await;
        assert!(
            (50.0..85.0).contains(&untagged_tokens),
            "{name}: {untagged_tokens}% untagged tokens"
        );
        let tagged_others = r#"SELECT count(*) FROM "Waitpoint"
            WHERE type <> 'MANUAL' AND (tags IS NOT NULL)"#;
        assert_eq!(scalar(store, tagged_others).await, 0, "{name}");

        // bulkActionGroupIds: mostly the column default, sometimes NULL.
        let defaulted = percent(
            store,
            r#"SELECT count(*) FROM "TaskRun" WHERE "bulkActionGroupIds" = '{}'"#,
            r#"SELECT count(*) FROM "TaskRun""#,
        )
        .await;
        assert!(defaulted > 80.0, "{name}: {defaulted}% empty bulk actions");
        let null = r#"SELECT count(*) FROM "TaskRun" WHERE "bulkActionGroupIds" IS NULL"#;
        assert!(
            scalar(store, null).await > 0,
            "{name}: some NULL bulk actions"
        );

        // Other columns the upstream often leaves NULL.
        for column in ["region", "idempotencyKeyOptions", "idempotencyKey", "ttl"] {
            let sql = format!(r#"SELECT count(*) FROM "TaskRun" WHERE "{column}" IS NULL"#);
            assert!(scalar(store, &sql).await > 0, "{name}: NULL {column}");
        }
        let run_ids = r#"SELECT count(*) FROM "BatchTaskRun" WHERE "runIds" IS NULL"#;
        assert!(scalar(store, run_ids).await > 0, "{name}: some NULL runIds");
        // Until the batch queue has processed a batch, its run ids are not recorded.
        let listed = r#"SELECT count(*) FROM "BatchTaskRun"
            WHERE cardinality("runIds") > 0
              AND cardinality("runIds") <> "runCount" - coalesce("failedRunCount", 0)"#;
        assert_eq!(
            scalar(store, listed).await,
            0,
            "{name}: runIds lists every run"
        );
        let unprocessed = r#"SELECT count(*) FROM "BatchTaskRun"
            WHERE "batchVersion" = 'runengine:v2' AND status = 'PROCESSING'
              AND cardinality("runIds") IS DISTINCT FROM 0"#;
        assert_eq!(scalar(store, unprocessed).await, 0, "{name}");
        // Outcome counts and processing times only where the batch queue recorded them.
        for column in [
            "successfulRunCount",
            "failedRunCount",
            "processingStartedAt",
            "processingCompletedAt",
            "idempotencyKey",
        ] {
            let sql = format!(r#"SELECT count(*) FROM "BatchTaskRun" WHERE "{column}" IS NULL"#);
            assert!(scalar(store, &sql).await > 0, "{name}: NULL {column}");
        }
        let recorded = r#"SELECT count(*) FROM "BatchTaskRun"
            WHERE "batchVersion" <> 'runengine:v2'
              AND ("successfulRunCount" IS NOT NULL OR "processingStartedAt" IS NOT NULL)"#;
        assert_eq!(scalar(store, recorded).await, 0, "{name}");
    }

    let [legacy, new] = dbs.stores();
    let unorganized = r#"SELECT count(*) FROM "TaskRun" WHERE "organizationId" IS NULL"#;
    assert!(
        scalar(legacy, unorganized).await > 0,
        "the oldest LEGACY runs"
    );
    assert_eq!(scalar(new, unorganized).await, 0, "NEW runs are all recent");
    let bulk = r#"SELECT count(*) FROM "TaskRun" WHERE cardinality("bulkActionGroupIds") > 0"#;
    assert!(scalar(legacy, bulk).await + scalar(new, bulk).await > 0);

    let cp = dbs.control_plane.pool();
    let empty_display = r#"SELECT count(*) FROM "User" WHERE "displayName" = ''"#;
    assert!(scalar(cp, empty_display).await > 0);
    let nameless = r#"SELECT count(*) FROM "User" WHERE name IS NULL AND "displayName" IS NULL"#;
    assert!(scalar(cp, nameless).await > 0);
}

#[tokio::test]
async fn engine_v1_runs_have_their_attempts_and_v2_runs_a_count() {
    let dbs = Split::create().await;
    dbs.seed(&small_plan()).await;

    for (name, store) in ["LEGACY", "NEW"].into_iter().zip(dbs.stores()) {
        for engine in ["V1", "V2"] {
            let sql = format!(r#"SELECT count(*) FROM "TaskRun" WHERE engine = '{engine}'"#);
            assert!(scalar(store, &sql).await > 0, "{name}: {engine} runs");
        }
        // Attempts belong to V1 runs of the same store and environment, numbered 1..n.
        let misplaced = r#"SELECT count(*) FROM "TaskRunAttempt" a
            LEFT JOIN "TaskRun" r ON r.id = a."taskRunId"
            WHERE r.id IS NULL OR r.engine <> 'V1'
               OR r."runtimeEnvironmentId" <> a."runtimeEnvironmentId"
               OR r."lockedToVersionId" <> a."backgroundWorkerId""#;
        assert_eq!(
            scalar(store, misplaced).await,
            0,
            "{name}: misplaced attempts"
        );
        let gaps = r#"SELECT count(*) FROM (SELECT "taskRunId" FROM "TaskRunAttempt"
            GROUP BY 1 HAVING min(number) <> 1 OR max(number) <> count(*) OR count(*) > 3) g"#;
        assert_eq!(
            scalar(store, gaps).await,
            0,
            "{name}: attempts numbered 1..n"
        );
        // Every V1 run that started has attempts; one that did not has none.
        let unattempted = r#"SELECT count(*) FROM "TaskRun" r WHERE r.engine = 'V1'
            AND ("startedAt" IS NOT NULL) <> EXISTS (
                SELECT 1 FROM "TaskRunAttempt" a WHERE a."taskRunId" = r.id)"#;
        assert_eq!(scalar(store, unattempted).await, 0, "{name}");
        let counted = r#"SELECT count(*) FROM "TaskRun"
            WHERE ("attemptNumber" IS NOT NULL) <> (engine = 'V2' AND "startedAt" IS NOT NULL)"#;
        assert_eq!(
            scalar(store, counted).await,
            0,
            "{name}: attemptNumber on V2 only"
        );
        let completed = r#"SELECT count(*) FROM "TaskRun" r
            JOIN "TaskRunAttempt" a ON a."taskRunId" = r.id AND a.status = 'COMPLETED'
            WHERE r.status <> 'COMPLETED_SUCCESSFULLY' OR a.output IS DISTINCT FROM r.output"#;
        assert_eq!(
            scalar(store, completed).await,
            0,
            "{name}: completed attempts"
        );
    }
    let [legacy, _] = dbs.stores();
    let retried = r#"SELECT count(*) FROM (SELECT "taskRunId" FROM "TaskRunAttempt"
        GROUP BY 1 HAVING count(*) > 1) r"#;
    assert!(
        scalar(legacy, retried).await > 0,
        "some V1 runs were retried"
    );
}

#[tokio::test]
async fn a_few_batches_have_item_errors_as_the_batch_queue_writes_them() {
    let dbs = Split::create().await;
    // The share of batches with errors is measured over about a hundred batches per store: the
    // small plan has some twenty-five, too few for the share to be stable across seeds.
    let plan = SeedPlan {
        runs: 10_000,
        ..small_plan()
    };
    let report = dbs.seed(&plan).await;

    for (name, store) in ["LEGACY", "NEW"].into_iter().zip(dbs.stores()) {
        // Errors belong to PARTIAL_FAILED batch-queue batches of their store, at item indexes
        // that exist.
        let stray = r#"SELECT count(*) FROM "BatchTaskRunError" e
            LEFT JOIN "BatchTaskRun" b ON b.id = e."batchTaskRunId"
            WHERE b.id IS NULL OR b.status <> 'PARTIAL_FAILED'
               OR b."batchVersion" <> 'runengine:v2' OR e.index >= b."runCount""#;
        assert_eq!(scalar(store, stray).await, 0, "{name}: stray errors");
        // Skewed: most batches have none; a failed item has its own row unless the queue was
        // full, when one row stands for all of the batch's failures.
        let with_errors = percent(
            store,
            r#"SELECT count(DISTINCT "batchTaskRunId") FROM "BatchTaskRunError""#,
            r#"SELECT count(*) FROM "BatchTaskRun""#,
        )
        .await;
        assert!(
            (0.5..25.0).contains(&with_errors),
            "{name}: {with_errors}% of batches have errors"
        );
        let uncounted = r#"SELECT count(*) FROM "BatchTaskRun" b WHERE "failedRunCount" <> (
            SELECT CASE WHEN bool_and(e."errorCode" = 'QUEUE_SIZE_LIMIT_EXCEEDED')
                        THEN b."failedRunCount" ELSE count(*) END
            FROM "BatchTaskRunError" e WHERE e."batchTaskRunId" = b.id)"#;
        assert_eq!(
            scalar(store, uncounted).await,
            0,
            "{name}: one row a failure"
        );
    }
    // The shapes the readers must handle, somewhere in the stores.
    let collapsed = r#"SELECT count(*) FROM "BatchTaskRunError"
        WHERE "errorCode" = 'QUEUE_SIZE_LIMIT_EXCEEDED'
          AND error LIKE '%items in this batch failed with the same error)'"#;
    let many = r#"SELECT count(*) FROM (SELECT FROM "BatchTaskRunError"
        GROUP BY "batchTaskRunId" HAVING count(*) >= 4) b"#;
    let shapes = [
        (collapsed, "a collapsed queue-size error"),
        (many, "a batch with many errors"),
        (
            r#"SELECT count(*) FROM "BatchTaskRunError" WHERE "errorCode" IS NULL"#,
            "errors without a code",
        ),
        (
            r#"SELECT count(*) FROM "BatchTaskRunError" WHERE "errorCode" IS NOT NULL"#,
            "errors with a code",
        ),
        (
            r#"SELECT count(*) FROM "BatchTaskRunError" WHERE payload IS NULL"#,
            "errors without a payload",
        ),
        (
            r#"SELECT count(*) FROM "BatchTaskRunError" WHERE payload IS NOT NULL"#,
            "errors with a payload",
        ),
        (
            r#"SELECT count(*) FROM "BatchTaskRunError" WHERE options IS NULL"#,
            "errors without options",
        ),
        (
            r#"SELECT count(*) FROM "BatchTaskRunError" WHERE options IS NOT NULL"#,
            "errors with options",
        ),
    ];
    for (sql, what) in shapes {
        let [legacy, new] = dbs.stores();
        assert!(
            scalar(legacy, sql).await + scalar(new, sql).await > 0,
            "{what}"
        );
    }
    let mut versions = std::collections::BTreeSet::new();
    for store in dbs.stores() {
        let found: Vec<String> =
            sqlx::query_scalar(r#"SELECT DISTINCT "batchVersion" FROM "BatchTaskRun""#)
                .fetch_all(store)
                .await
                .expect("versions");
        versions.extend(found);
    }
    assert!(versions.len() >= 4, "{versions:?}");
    let h = &report.highlights;
    for (store, batch_id, rows) in [
        (dbs.legacy.pool(), &h.legacy_batch_id, 4),
        (dbs.new.pool(), &h.new_batch_id, 1),
    ] {
        let sql = format!(
            r#"SELECT count(*) FROM "BatchTaskRunError" e JOIN "BatchTaskRun" b
               ON b.id = e."batchTaskRunId" WHERE b."friendlyId" = '{batch_id}'"#
        );
        assert_eq!(scalar(store, &sql).await, rows, "{batch_id}");
    }
}
