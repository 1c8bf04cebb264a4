//! What the filter matrix asks for: every ListRuns and ListBatches filter with the most common
//! value in the environment's default window, the rarest value that still matches, and a value
//! nobody used, read from the seeded stores themselves.

use std::collections::BTreeMap;

use runview_core::ids::mint_cuid_body;
use runview_core::status::{ApiVersion, PublicRunStatus, StatusFilterMode, TaskRunStatus};
use sqlx::PgPool;

use crate::postgres::Dataset;

/// How far back a list reads when the request names no window (the upstream's default).
pub const DEFAULT_WINDOW_DAYS: i64 = 7;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum List {
    Runs,
    Batches,
}

impl List {
    pub fn name(self) -> &'static str {
        match self {
            Self::Runs => "ListRuns",
            Self::Batches => "ListBatches",
        }
    }

    /// The table whose rows a page of this list reads.
    pub fn table(self) -> &'static str {
        match self {
            Self::Runs => "TaskRun",
            Self::Batches => "BatchTaskRun",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// No filter at all: the reference row.
    Unfiltered,
    Common,
    Rare,
    Absent,
}

impl Class {
    pub fn name(self) -> &'static str {
        match self {
            Self::Unfiltered => "–",
            Self::Common => "common",
            Self::Rare => "rare",
            Self::Absent => "absent",
        }
    }
}

/// One filter of one list, with the request field it sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filter {
    None,
    Statuses,
    TaskIdentifiers,
    Versions,
    Tags,
    BatchId,
    ScheduleId,
    IsTest,
    Queues,
    Regions,
    Machines,
    BulkActionId,
    BatchStatuses,
    BatchFriendlyId,
}

impl Filter {
    pub const RUNS: [Self; 12] = [
        Self::None,
        Self::Statuses,
        Self::TaskIdentifiers,
        Self::Versions,
        Self::Tags,
        Self::BatchId,
        Self::ScheduleId,
        Self::IsTest,
        Self::Queues,
        Self::Regions,
        Self::Machines,
        Self::BulkActionId,
    ];
    pub const BATCHES: [Self; 3] = [Self::None, Self::BatchStatuses, Self::BatchFriendlyId];

    /// The request field, as the contract names it.
    pub fn field(self) -> &'static str {
        match self {
            Self::None => "(none)",
            Self::Statuses | Self::BatchStatuses => "statuses",
            Self::TaskIdentifiers => "task_identifiers",
            Self::Versions => "versions",
            Self::Tags => "tags",
            Self::BatchId | Self::BatchFriendlyId => "batch_id",
            Self::ScheduleId => "schedule_id",
            Self::IsTest => "is_test",
            Self::Queues => "queues",
            Self::Regions => "regions",
            Self::Machines => "machines",
            Self::BulkActionId => "bulk_action_id",
        }
    }

    /// The stored value each row holds for this filter (NULL or no row when it holds none).
    fn stored_value(self) -> Option<&'static str> {
        Some(match self {
            Self::None | Self::BatchFriendlyId => return None,
            Self::Statuses | Self::BatchStatuses => "status::text",
            Self::TaskIdentifiers => r#""taskIdentifier""#,
            Self::Versions => r#""taskVersion""#,
            Self::Tags => r#"unnest("runTags")"#,
            Self::BatchId => r#""batchId""#,
            Self::ScheduleId => r#""scheduleId""#,
            Self::IsTest => r#""isTest"::text"#,
            Self::Queues => "queue",
            // The region a run displays, as the filter matches it.
            Self::Regions => {
                r#"CASE WHEN region <> '' THEN region ELSE split_part("masterQueue", ':', 1) END"#
            }
            Self::Machines => r#""machinePreset""#,
            Self::BulkActionId => r#"unnest("bulkActionGroupIds")"#,
        })
    }
}

/// A value to filter by, as the request carries it, and how many records of the window hold it.
#[derive(Clone, Debug)]
pub struct Picked {
    pub list: List,
    pub filter: Filter,
    pub class: Class,
    pub value: String,
    pub matches: i64,
}

/// Every (filter, class) of both lists that the dataset can give a value for.
pub async fn pick_all(dataset: &Dataset) -> anyhow::Result<Vec<Picked>> {
    let stores = dataset.connect_stores().await?;
    let control_plane = PgPool::connect(&dataset.control_plane).await?;
    let mut picked = Vec::new();
    for (list, filters) in [
        (List::Runs, &Filter::RUNS[..]),
        (List::Batches, &Filter::BATCHES[..]),
    ] {
        for &filter in filters {
            let counts = counts(&stores, &dataset.environment_id, list, filter).await?;
            let mut chosen = choose(filter, &counts);
            if filter == Filter::BatchFriendlyId {
                // One batch per id: the only match a value can have is one record.
                chosen.insert(
                    0,
                    (Class::Rare, latest_batch(&stores[0], dataset).await?, 1),
                );
            }
            for (class, value, matches) in chosen {
                let value = match (class, filter) {
                    (Class::Absent, _) | (_, Filter::BatchFriendlyId) => value,
                    _ => request_value(&stores, &control_plane, filter, value).await?,
                };
                picked.push(Picked {
                    list,
                    filter,
                    class,
                    value,
                    matches,
                });
            }
        }
    }
    control_plane.close().await;
    for store in stores {
        store.close().await;
    }
    Ok(picked)
}

/// Records per stored value in the environment's default window, over every store.
async fn counts(
    stores: &[PgPool],
    environment_id: &str,
    list: List,
    filter: Filter,
) -> anyhow::Result<BTreeMap<String, i64>> {
    let mut counts = BTreeMap::new();
    let Some(value) = filter.stored_value() else {
        return Ok(counts);
    };
    let sql = format!(
        r#"SELECT v, count(*) FROM (
               SELECT {value} AS v FROM "{table}"
               WHERE "runtimeEnvironmentId" = $1
                 AND "createdAt" >= now() - make_interval(days => $2::int)
           ) s WHERE v IS NOT NULL GROUP BY v"#,
        table = list.table()
    );
    for store in stores {
        let rows: Vec<(String, i64)> = sqlx::query_as(&sql)
            .bind(environment_id)
            .bind(DEFAULT_WINDOW_DAYS as i32)
            .fetch_all(store)
            .await?;
        for (value, count) in rows {
            let key = match filter {
                Filter::Statuses => public_status(&value),
                _ => value,
            };
            *counts.entry(key).or_default() += count;
        }
    }
    Ok(counts)
}

/// The name a stored run status is filtered by (COMPLETE mode, the default API version).
fn public_status(stored: &str) -> String {
    TaskRunStatus::from_label(stored)
        .map(|s| s.public(ApiVersion::V1).as_str().to_owned())
        .unwrap_or_else(|| stored.to_owned())
}

/// The common, rare and absent values of `filter`, from its counts; the rare one only when it is
/// another value than the common one.
fn choose(filter: Filter, counts: &BTreeMap<String, i64>) -> Vec<(Class, String, i64)> {
    if filter == Filter::None {
        return vec![(Class::Unfiltered, String::new(), 0)];
    }
    let mut chosen = Vec::new();
    let common = counts.iter().max_by_key(|(_, n)| **n);
    let rare = counts.iter().min_by_key(|(_, n)| **n);
    if let Some((value, n)) = common {
        chosen.push((Class::Common, value.clone(), *n));
    }
    if let Some((value, n)) = rare.filter(|r| Some(r.0) != common.map(|c| c.0)) {
        chosen.push((Class::Rare, value.clone(), *n));
    }
    if let Some(value) = absent_value(filter, counts) {
        chosen.push((Class::Absent, value, 0));
    }
    chosen
}

/// A well-formed value that no record of the window holds.
fn absent_value(filter: Filter, counts: &BTreeMap<String, i64>) -> Option<String> {
    let unused = |candidates: &[&str]| {
        candidates
            .iter()
            .find(|c| !counts.contains_key(**c))
            .map(|c| (*c).to_owned())
    };
    let minted = |prefix: &str| format!("{prefix}{}", mint_cuid_body(0, [0xbe; 16]));
    match filter {
        Filter::None => None,
        Filter::Statuses => PublicRunStatus::ALL
            .into_iter()
            .filter(|s| {
                s.stored_statuses(StatusFilterMode::Complete, ApiVersion::V1)
                    .is_some()
            })
            .map(PublicRunStatus::as_str)
            .find(|name| !counts.contains_key(*name))
            .map(str::to_owned),
        Filter::TaskIdentifiers => Some("bench-absent-task".to_owned()),
        Filter::Versions => Some("99991231.1".to_owned()),
        Filter::Tags => Some("bench:absent".to_owned()),
        Filter::BatchId | Filter::BatchFriendlyId => Some(minted("batch_")),
        Filter::ScheduleId => Some(minted("sched_")),
        Filter::IsTest => unused(&["true", "false"]),
        Filter::Queues => Some("task/bench-absent".to_owned()),
        Filter::Regions => Some("bench-absent-1".to_owned()),
        Filter::Machines => unused(&[
            "micro",
            "small-1x",
            "small-2x",
            "medium-1x",
            "medium-2x",
            "large-1x",
            "large-2x",
        ]),
        Filter::BulkActionId => Some(minted("bulk_")),
        Filter::BatchStatuses => unused(&[
            "PENDING",
            "PROCESSING",
            "COMPLETED",
            "PARTIAL_FAILED",
            "ABORTED",
        ]),
    }
}

/// The request's form of a stored value: friendly ids for batches and schedules.
async fn request_value(
    stores: &[PgPool],
    control_plane: &PgPool,
    filter: Filter,
    stored: String,
) -> anyhow::Result<String> {
    let friendly =
        |table: &'static str| format!(r#"SELECT "friendlyId" FROM "{table}" WHERE id = $1"#);
    match filter {
        Filter::BatchId => {
            let sql = friendly("BatchTaskRun");
            for store in stores {
                if let Some(id) = sqlx::query_scalar(&sql)
                    .bind(&stored)
                    .fetch_optional(store)
                    .await?
                {
                    return Ok(id);
                }
            }
            anyhow::bail!("batch {stored} has runs but no row in any store")
        }
        Filter::ScheduleId => Ok(sqlx::query_scalar(&friendly("TaskSchedule"))
            .bind(&stored)
            .fetch_one(control_plane)
            .await?),
        _ => Ok(stored),
    }
}

/// The environment's most recent batch in `store`.
async fn latest_batch(store: &PgPool, dataset: &Dataset) -> anyhow::Result<String> {
    Ok(sqlx::query_scalar(
        r#"SELECT "friendlyId" FROM "BatchTaskRun" WHERE "runtimeEnvironmentId" = $1
           ORDER BY "createdAt" DESC LIMIT 1"#,
    )
    .bind(&dataset.environment_id)
    .fetch_one(store)
    .await?)
}

/// An environment without a run in any store: a list there reads no row, which is what the
/// statistics flush needs (see `examined`).
pub async fn empty_environment(dataset: &Dataset) -> anyhow::Result<String> {
    let control_plane = PgPool::connect(&dataset.control_plane).await?;
    let environments: Vec<String> =
        sqlx::query_scalar(r#"SELECT id FROM "RuntimeEnvironment" ORDER BY id"#)
            .fetch_all(&control_plane)
            .await?;
    control_plane.close().await;
    let stores = dataset.connect_stores().await?;
    for environment in environments {
        let mut used = false;
        for store in &stores {
            used |= sqlx::query_scalar::<_, bool>(
                r#"SELECT EXISTS (SELECT 1 FROM "TaskRun" WHERE "runtimeEnvironmentId" = $1)"#,
            )
            .bind(&environment)
            .fetch_one(store)
            .await?;
        }
        if !used {
            return Ok(environment);
        }
    }
    anyhow::bail!("every environment of the dataset has runs")
}
