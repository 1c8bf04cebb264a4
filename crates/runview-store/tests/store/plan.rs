//! The GetRun and GetBatch statements read their tables through indexes only, in custom and
//! generic plans alike (sqlx reuses prepared statements, so PostgreSQL may switch to a generic
//! plan).

use runview_core::ids::Residency;
use runview_store::{FIND_BATCH_SQL, FIND_RUN_SQL};

use crate::support::{
    explain_generic_and_custom, insert_bulk_batches, insert_bulk_runs, plan_nodes, runops_database,
};

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

/// GetBatch finds the batch through the unique friendly-id index, checks the environment on that
/// one row, and reads its errors through the ("batchTaskRunId", index) indexes: never a scan of
/// either table.
#[tokio::test]
async fn get_batch_reads_the_batch_and_its_errors_through_indexes_only() {
    let database = runops_database(Residency::New).await;
    insert_bulk_batches(database.pool(), 5_000).await;
    // bulkbatch13 is in env_3 and has ten errors.
    let arguments = "'bulkbatch13', 'env_3', true";
    for (mode, plan) in explain_generic_and_custom(database.pool(), FIND_BATCH_SQL, arguments).await
    {
        let nodes = plan_nodes(&plan);
        let field = |node: &serde_json::Value, name: &str| {
            node[name].as_str().unwrap_or_default().to_owned()
        };
        let reads: Vec<(String, String)> = nodes
            .iter()
            .filter(|node| node.get("Relation Name").is_some())
            .map(|node| (field(node, "Relation Name"), field(node, "Node Type")))
            .collect();
        // A bitmap scan names its index on the Bitmap Index Scan below the heap scan.
        let indexes: Vec<String> = nodes
            .iter()
            .map(|node| field(node, "Index Name"))
            .filter(|name| !name.is_empty())
            .collect();
        let batch_reads = reads.iter().filter(|(table, _)| table == "BatchTaskRun");
        assert!(
            batch_reads.clone().count() == 1
                && batch_reads
                    .clone()
                    .all(|(_, node_type)| node_type == "Index Scan")
                && indexes
                    .iter()
                    .any(|name| name == "BatchTaskRun_friendlyId_key"),
            "{mode}: {reads:?} with {indexes:?} in {plan}"
        );
        let error_reads: Vec<&String> = reads
            .iter()
            .filter(|(table, _)| table == "BatchTaskRunError")
            .map(|(_, node_type)| node_type)
            .collect();
        assert!(
            !error_reads.is_empty()
                && error_reads
                    .iter()
                    .all(|node_type| node_type.starts_with("Index")
                        || node_type.starts_with("Bitmap"))
                && indexes
                    .iter()
                    .any(|name| name.starts_with("BatchTaskRunError_batchTaskRunId")),
            "{mode}: {reads:?} with {indexes:?} in {plan}"
        );
    }
}
