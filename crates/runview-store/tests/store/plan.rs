//! The GetRun statement reads "TaskRun" through indexes only, in custom and generic plans alike
//! (sqlx reuses prepared statements, so PostgreSQL may switch to a generic plan).

use runview_core::ids::Residency;
use runview_store::FIND_RUN_SQL;

use crate::support::{explain_generic_and_custom, insert_bulk_runs, plan_nodes, runops_database};

#[tokio::test]
async fn get_run_reads_task_run_through_indexes_only() {
    let database = runops_database(Residency::Legacy).await;
    insert_bulk_runs(database.pool(), 5_000).await;
    let arguments = "'bulk15', 'env_1', true, 101";
    for (mode, plan) in explain_generic_and_custom(database.pool(), FIND_RUN_SQL, arguments).await {
        let scans: Vec<&str> = plan_nodes(&plan)
            .into_iter()
            .filter(|node| node["Relation Name"] == "TaskRun")
            .filter_map(|node| node["Node Type"].as_str())
            .collect();
        assert!(!scans.is_empty(), "{mode}: no scan of TaskRun in {plan}");
        assert!(
            scans
                .iter()
                .all(|scan| scan.starts_with("Index") || scan.starts_with("Bitmap")),
            "{mode}: {scans:?} in {plan}"
        );
    }
}
