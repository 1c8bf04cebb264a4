//! The statements runview sends for the benchmarked calls, with the values it binds, as pgbench
//! scripts: the text comes from runview-store itself, so the two cannot drift apart.

use chrono::{DateTime, Utc};
use runview_core::filter::{RunFilter, RunListQuery};
use runview_core::ids::EnvironmentId;
use runview_core::page::{DEFAULT_SCAN_BUDGET, PageRequest, TimeWindow};
use runview_core::presenter::DEFAULT_LIST_PERIOD;
use runview_core::status::{ApiVersion, PublicRunStatus, StatusFilterMode};
use runview_store::{FIND_BATCH_SQL, FIND_RUN_SQL, list_runs_sql};

/// What the server binds as GetRun's children limit: `children_limit` (100) plus one.
const CHILDREN_TO_READ: &str = "101";

/// A pgbench script and the `-D` variables it reads.
#[derive(Clone, Debug)]
pub struct Script {
    pub text: String,
    pub variables: Vec<(String, String)>,
}

/// `sql` with `$n` replaced by `:names[n-1]`, each occurrence becoming a pgbench variable.
/// pgbench numbers every occurrence as its own parameter, so a `$1` used twice is bound twice
/// with the same value: the plan is the same, only the parameter count differs.
fn with_variables(sql: &str, names: &[String]) -> String {
    let mut text = sql.to_owned();
    // Highest first, so that `$1` never eats the start of `$12`.
    for (index, name) in names.iter().enumerate().rev() {
        text = text.replace(&format!("${}", index + 1), &format!(":{name}"));
    }
    text
}

/// `sql` with a random one of `ids` as its first parameter per transaction and `others` (name,
/// value) as the rest, in order. pgbench variables are strings only through `-D`, so each id has
/// its own branch of an `\if` chain (and its own prepared statement with the same text).
fn with_one_of(sql: &str, ids: &[String], others: &[(&str, String)]) -> Script {
    let mut text = format!("\\set i random(1, {})\n", ids.len());
    let mut variables: Vec<(String, String)> = others
        .iter()
        .map(|(name, value)| ((*name).to_owned(), value.clone()))
        .collect();
    for (index, id) in ids.iter().enumerate() {
        let number = index + 1;
        let keyword = if number == 1 { "\\if" } else { "\\elif" };
        let id_name = format!("id{number}");
        let names: Vec<String> = std::iter::once(id_name.clone())
            .chain(others.iter().map(|(name, _)| (*name).to_owned()))
            .collect();
        text.push_str(&format!("{keyword} :i = {number}\n"));
        text.push_str(with_variables(sql.trim(), &names).as_str());
        text.push_str(";\n");
        variables.push((id_name, id.clone()));
    }
    text.push_str("\\endif\n");
    Script { text, variables }
}

/// GetRun: [`FIND_RUN_SQL`] for a random one of `run_ids` per transaction.
pub fn find_run(run_ids: &[String], environment_id: &str, full_view: bool) -> Script {
    with_one_of(
        FIND_RUN_SQL,
        run_ids,
        &[
            ("env", environment_id.to_owned()),
            ("bodies", full_view.to_string()),
            ("children", CHILDREN_TO_READ.to_owned()),
        ],
    )
}

/// GetBatch: [`FIND_BATCH_SQL`] for a random one of `batch_ids` (bodies, without `batch_`) per
/// transaction, reading the run ids for the FULL view.
pub fn find_batch(batch_ids: &[String], environment_id: &str, full_view: bool) -> Script {
    with_one_of(
        FIND_BATCH_SQL,
        batch_ids,
        &[
            ("env", environment_id.to_owned()),
            ("run_ids", full_view.to_string()),
        ],
    )
}

/// ListRuns' first page of `page_size` in `environment_id`, optionally filtered by public
/// statuses as a request without `status_filter_mode` and `api_version` would be.
pub fn list_runs(
    environment_id: &str,
    page_size: usize,
    statuses: &[&str],
    now: DateTime<Utc>,
) -> anyhow::Result<Script> {
    let mut stored = Vec::new();
    for name in statuses {
        let public = PublicRunStatus::from_name(name)
            .ok_or_else(|| anyhow::anyhow!("unknown status {name}"))?;
        stored.extend(
            public
                .stored_statuses(StatusFilterMode::Upstream, ApiVersion::V1)
                .unwrap_or_default(),
        );
    }
    stored.sort_unstable();
    stored.dedup();
    let window = TimeWindow {
        start: Some(now - DEFAULT_LIST_PERIOD),
        end: now,
    };
    let query = RunListQuery {
        environment_id: EnvironmentId::parse(environment_id)?,
        filter: RunFilter {
            statuses: stored.clone(),
            ..RunFilter::any_in(window)
        },
        page: PageRequest::for_page(None, page_size),
        // The server's default, which the benchmark does not change.
        scan_budget: DEFAULT_SCAN_BUDGET,
    };
    // In list_runs_sql's documented order: environment, window, filters (when filtered), limit.
    let timestamp = |at: DateTime<Utc>| at.naive_utc().format("%Y-%m-%d %H:%M:%S%.6f").to_string();
    let mut values = vec![
        environment_id.to_owned(),
        timestamp(now - DEFAULT_LIST_PERIOD),
        timestamp(now),
    ];
    if !stored.is_empty() {
        let names: Vec<&str> = stored.iter().map(|s| s.as_str()).collect();
        values.push(format!("{{{}}}", names.join(",")));
    }
    values.push(query.page.limit.to_string());
    let names: Vec<String> = (1..=values.len()).map(|n| format!("p{n}")).collect();
    let text = format!(
        "{};\n",
        with_variables(list_runs_sql(&query).trim(), &names)
    );
    Ok(Script {
        text,
        variables: names.into_iter().zip(values).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_parameter_becomes_a_variable_and_the_highest_goes_first() {
        let names: Vec<String> = (1..=12).map(|n| format!("p{n}")).collect();
        assert_eq!(
            with_variables("$1 = $12 AND $1", &names),
            ":p1 = :p12 AND :p1"
        );
    }

    #[test]
    fn a_lookup_script_branches_once_per_id_and_binds_every_parameter() {
        let ids = vec!["cbatch1".to_owned(), "cbatch2".to_owned()];
        let script = find_batch(&ids, "env_1", true);
        assert!(!script.text.contains('$'));
        assert_eq!(script.text.matches(":id1").count(), 1);
        assert!(script.text.contains("\\elif :i = 2\n"));
        let variables: Vec<(&str, &str)> = script
            .variables
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        assert_eq!(
            variables,
            [
                ("env", "env_1"),
                ("run_ids", "true"),
                ("id1", "cbatch1"),
                ("id2", "cbatch2")
            ]
        );
    }

    #[test]
    fn a_list_script_binds_every_parameter_of_the_statement() -> anyhow::Result<()> {
        let script = list_runs("env_1", 25, &["COMPLETED", "FAILED"], Utc::now())?;
        assert_eq!(script.variables.len(), 5);
        assert!(!script.text.contains('$'));
        // The walk's budget is written into the statement, as runview sends it: on a first page,
        // less the row PostgreSQL reads past the walk.
        assert!(
            script
                .text
                .contains(&format!("LIMIT {}", DEFAULT_SCAN_BUDGET - 1))
        );
        assert_eq!(
            script.variables[3].1,
            "{COMPLETED_SUCCESSFULLY,COMPLETED_WITH_ERRORS}"
        );
        assert_eq!(script.variables[4].1, "26");
        Ok(())
    }
}
