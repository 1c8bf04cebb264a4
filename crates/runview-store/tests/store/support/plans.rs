//! Plans of prepared statements, as PostgreSQL chooses them with and without the values.

use serde_json::Value;
use sqlx::PgPool;

/// The JSON plan of `sql` executed with `arguments` (SQL literals, in parameter order), planned
/// once with the values (custom) and once without (generic): sqlx keeps statements prepared, so
/// PostgreSQL may switch to the generic plan after a few executions.
pub async fn explain_generic_and_custom(
    pool: &PgPool,
    sql: &str,
    arguments: &str,
) -> Vec<(&'static str, Value)> {
    let mut conn = pool.acquire().await.expect("a connection");
    sqlx::raw_sql(&format!("PREPARE explained AS {sql}"))
        .execute(&mut *conn)
        .await
        .expect("prepare");
    let mut plans = Vec::new();
    for mode in ["force_generic_plan", "force_custom_plan"] {
        sqlx::raw_sql(&format!("SET plan_cache_mode = {mode}"))
            .execute(&mut *conn)
            .await
            .expect("set the plan mode");
        let explain = format!("EXPLAIN (FORMAT JSON) EXECUTE explained ({arguments})");
        let plan: Value = sqlx::query_scalar(&explain)
            .fetch_one(&mut *conn)
            .await
            .expect("explain");
        plans.push((mode, plan[0]["Plan"].clone()));
    }
    sqlx::raw_sql("DEALLOCATE explained; RESET plan_cache_mode")
        .execute(&mut *conn)
        .await
        .expect("deallocate");
    plans
}

/// Every node of a JSON plan, depth first.
pub fn plan_nodes(plan: &Value) -> Vec<&Value> {
    let mut nodes = vec![plan];
    let children = plan.get("Plans").and_then(Value::as_array);
    for child in children.into_iter().flatten() {
        nodes.extend(plan_nodes(child));
    }
    nodes
}

/// The JSON plan of `sql` run with `arguments` (SQL literals, in parameter order) and planned with
/// them, as PostgreSQL executed it: each node carries its "Actual Rows".
pub async fn explain_analyzed(pool: &PgPool, sql: &str, arguments: &str) -> Value {
    let mut conn = pool.acquire().await.expect("a connection");
    sqlx::raw_sql(&format!("PREPARE analyzed AS {sql}"))
        .execute(&mut *conn)
        .await
        .expect("prepare");
    let explain = format!("EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE analyzed ({arguments})");
    let plan: Value = sqlx::query_scalar(&explain)
        .fetch_one(&mut *conn)
        .await
        .expect("explain analyze");
    sqlx::raw_sql("DEALLOCATE analyzed")
        .execute(&mut *conn)
        .await
        .expect("deallocate");
    plan[0]["Plan"].clone()
}

/// The scans of `table` in a plan, as (node type, index name: empty for none). A bitmap heap
/// scan names no index: the Bitmap Index Scan below it does, and is listed too, known by the
/// index's name (upstream indexes are named after their table, runview's after `runview_`).
pub fn scans_of<'p>(plan: &'p Value, table: &str) -> Vec<(&'p str, &'p str)> {
    let text = |node: &'p Value, field: &str| node[field].as_str().unwrap_or_default();
    let prefixes = [format!("{table}_"), format!("runview_{table}_")];
    plan_nodes(plan)
        .into_iter()
        .filter(|node| {
            node["Relation Name"] == table
                || (node["Node Type"] == "Bitmap Index Scan"
                    && prefixes
                        .iter()
                        .any(|prefix| text(node, "Index Name").starts_with(prefix.as_str())))
        })
        .map(|node| (text(node, "Node Type"), text(node, "Index Name")))
        .collect()
}
