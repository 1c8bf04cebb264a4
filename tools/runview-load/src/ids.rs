//! `runview-load ids`: reads ids of seeded records from run-ops databases and writes them as a
//! ghz data array (one request message per id), so that a run spreads its calls over many
//! records instead of hammering one cached row. Several databases (LEGACY and NEW) are
//! interleaved, so both stores are exercised.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use serde_json::{Map, Value};
use sqlx::{Connection, PgConnection};

#[derive(Debug, Args)]
pub struct IdsArgs {
    /// A run-ops database; repeat for LEGACY and NEW.
    #[arg(long = "database-url", required = true)]
    pub database_urls: Vec<String>,
    /// Which records, and so which request field holds the id.
    #[arg(long, value_enum)]
    pub kind: Kind,
    /// Only records of this environment; without it, each record keeps its own environment.
    #[arg(long)]
    pub environment: Option<String>,
    /// How many request messages to write in total.
    #[arg(long, default_value_t = 1000)]
    pub limit: u32,
    /// JSON object merged into every message, e.g. '{"view":"RUN_VIEW_FULL"}'.
    #[arg(long)]
    pub extra: Option<String>,
    /// Write here instead of standard output.
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// GetRun: `run_id`.
    Runs,
    /// GetWaitpoint: `waitpoint_id`.
    Waitpoints,
    /// GetBatch, or ListBatches filtered by one batch: `batch_id`.
    Batches,
}

impl Kind {
    /// Newest first, optionally in one environment. `$1` is the environment or NULL.
    fn query(self) -> &'static str {
        match self {
            Kind::Runs => {
                r#"SELECT "friendlyId", "runtimeEnvironmentId" FROM "TaskRun"
                   WHERE $1::text IS NULL OR "runtimeEnvironmentId" = $1
                   ORDER BY "createdAt" DESC, "id" DESC LIMIT $2"#
            }
            Kind::Waitpoints => {
                r#"SELECT "friendlyId", "environmentId" FROM "Waitpoint"
                   WHERE $1::text IS NULL OR "environmentId" = $1
                   ORDER BY "createdAt" DESC, "id" DESC LIMIT $2"#
            }
            Kind::Batches => {
                r#"SELECT "friendlyId", "runtimeEnvironmentId" FROM "BatchTaskRun"
                   WHERE $1::text IS NULL OR "runtimeEnvironmentId" = $1
                   ORDER BY "createdAt" DESC, "id" DESC LIMIT $2"#
            }
        }
    }

    fn id_field(self) -> &'static str {
        match self {
            Kind::Runs => "run_id",
            Kind::Waitpoints => "waitpoint_id",
            Kind::Batches => "batch_id",
        }
    }
}

/// A record's friendly id and its environment.
pub type Record = (String, String);

pub async fn write_ids(args: &IdsArgs) -> anyhow::Result<()> {
    let extra = match &args.extra {
        Some(text) => serde_json::from_str(text).context("--extra must be a JSON object")?,
        None => Map::new(),
    };
    let mut per_database = Vec::with_capacity(args.database_urls.len());
    for (index, url) in args.database_urls.iter().enumerate() {
        // Named by position: URLs may carry passwords.
        let records = read_records(url, args.kind, args.environment.as_deref(), args.limit)
            .await
            .with_context(|| format!("reading database #{}", index + 1))?;
        per_database.push(records);
    }
    let messages = messages(
        args.kind,
        interleave(per_database, args.limit as usize),
        &extra,
    );
    if messages.is_empty() {
        let kind = args
            .kind
            .to_possible_value()
            .map(|v| v.get_name().to_owned());
        anyhow::bail!(
            "no {} found; check --environment and the database URLs",
            kind.unwrap_or_default()
        );
    }
    let json = serde_json::to_string_pretty(&messages)? + "\n";
    match &args.output {
        Some(path) => std::fs::write(path, json)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{json}"),
    }
    Ok(())
}

pub async fn read_records(
    url: &str,
    kind: Kind,
    environment: Option<&str>,
    limit: u32,
) -> anyhow::Result<Vec<Record>> {
    let mut connection = PgConnection::connect(url).await?;
    let records = sqlx::query_as(kind.query())
        .bind(environment)
        .bind(i64::from(limit))
        .fetch_all(&mut connection)
        .await?;
    connection.close().await?;
    Ok(records)
}

/// Takes from each list in turn, so every database is represented up to `limit`.
pub fn interleave(lists: Vec<Vec<Record>>, limit: usize) -> Vec<Record> {
    let mut iterators: Vec<_> = lists.into_iter().map(Vec::into_iter).collect();
    let mut mixed = Vec::new();
    while mixed.len() < limit {
        let before = mixed.len();
        for records in &mut iterators {
            if mixed.len() < limit
                && let Some(record) = records.next()
            {
                mixed.push(record);
            }
        }
        if mixed.len() == before {
            break;
        }
    }
    mixed
}

/// One request message per record: its environment, its id, then `extra`.
pub fn messages(kind: Kind, records: Vec<Record>, extra: &Map<String, Value>) -> Vec<Value> {
    records
        .into_iter()
        .map(|(id, environment)| {
            let mut message = Map::new();
            message.insert("environment_id".into(), Value::String(environment));
            message.insert(kind.id_field().into(), Value::String(id));
            message.extend(extra.clone());
            Value::Object(message)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn records(prefix: &str, n: usize) -> Vec<Record> {
        (0..n)
            .map(|i| (format!("{prefix}{i}"), "env".to_owned()))
            .collect()
    }

    #[test]
    fn databases_alternate_until_the_limit() {
        let mixed = interleave(vec![records("legacy", 3), records("new", 1)], 4);
        let ids: Vec<_> = mixed.into_iter().map(|(id, _)| id).collect();
        assert_eq!(ids, ["legacy0", "new0", "legacy1", "legacy2"]);
        assert_eq!(
            interleave(vec![records("a", 5), records("b", 5)], 3).len(),
            3
        );
    }

    #[test]
    fn messages_name_the_id_field_of_the_kind_and_carry_extra_fields() {
        let extra = Map::from_iter([("view".to_owned(), json!("RUN_VIEW_FULL"))]);
        let runs = messages(Kind::Runs, vec![("run_1".into(), "env_1".into())], &extra);
        assert_eq!(
            runs,
            [json!({"environment_id": "env_1", "run_id": "run_1", "view": "RUN_VIEW_FULL"})]
        );
        let waitpoints = messages(
            Kind::Waitpoints,
            vec![("wp_1".into(), "env_1".into())],
            &Map::new(),
        );
        assert_eq!(
            waitpoints,
            [json!({"environment_id": "env_1", "waitpoint_id": "wp_1"})]
        );
    }
}
