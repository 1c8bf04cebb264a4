//! The seeded runs are skewed the way production data is: one environment holds most of them, and
//! tasks, queues and tags have a few very common values and a long tail.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use crate::support::{Split, count, small_plan};

/// How many runs of both stores have each value of `expression` (NULLs left out), most first.
async fn frequencies(dbs: &Split, expression: &str) -> Vec<(String, i64)> {
    let sql = format!(
        r#"SELECT value, count(*) FROM (SELECT {expression} AS value FROM "TaskRun") t
           WHERE value IS NOT NULL GROUP BY value"#
    );
    let mut counts: BTreeMap<String, i64> = BTreeMap::new();
    for store in dbs.stores() {
        let rows: Vec<(String, i64)> = sqlx::query_as(&sql)
            .fetch_all(store)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        for (value, n) in rows {
            *counts.entry(value).or_default() += n;
        }
    }
    let mut counts: Vec<(String, i64)> = counts.into_iter().collect();
    counts.sort_by_key(|(_, n)| Reverse(*n));
    counts
}

#[tokio::test]
async fn one_environment_holds_most_runs_and_tasks_queues_and_tags_are_skewed() {
    let dbs = Split::create().await;
    let plan = small_plan();
    let report = dbs.seed(&plan).await;
    let runs: i64 = {
        let [legacy, new] = dbs.stores();
        (count(legacy, "TaskRun").await + count(new, "TaskRun").await) as i64
    };

    let environments = frequencies(&dbs, r#""runtimeEnvironmentId""#).await;
    assert_eq!(
        environments[0].0,
        report.highlights.production_environment_id
    );
    // Its share of the regular runs, plus the showcase rows, which are all in production.
    let share = environments[0].1 as f64 / runs as f64;
    let expected = plan.largest_environment_share();
    assert!(
        (expected..expected + 0.05).contains(&share),
        "production holds {share} of the runs, expected about {expected}"
    );

    let tasks = frequencies(&dbs, r#""taskIdentifier""#).await;
    assert_eq!(tasks[0].0, "process-order");
    let median = tasks[tasks.len() / 2].1;
    assert!(tasks.len() > 30, "{} tasks", tasks.len());
    assert!(tasks[0].1 > 10 * median, "{} vs {median}", tasks[0].1);

    let queues = frequencies(&dbs, "queue").await;
    let top_five: i64 = queues[..5].iter().map(|(_, n)| n).sum();
    assert!(
        top_five > runs / 2,
        "{top_five} of {runs} on the top five queues"
    );
    assert!(queues.len() > 30, "a long tail: {} queues", queues.len());

    let tags = frequencies(&dbs, r#"unnest("runTags")"#).await;
    let users = tags.iter().filter(|(tag, _)| tag.starts_with("user:"));
    assert!(
        users.count() > 150,
        "user:<id> tags have a high cardinality"
    );
    let pooled: Vec<&(String, i64)> = tags
        .iter()
        .filter(|(tag, _)| !tag.starts_with("user:"))
        .collect();
    assert!(pooled[0].1 > 10 * pooled[pooled.len() / 2].1, "{pooled:?}");
}
