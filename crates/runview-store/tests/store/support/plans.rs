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
