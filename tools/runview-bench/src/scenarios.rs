//! The calls the benchmark makes and, where runview-store exposes the statement, the pgbench
//! workload that runs runview's own SQL beside it.

use chrono::Utc;
use runview_load::ids::{self, Kind};
use serde_json::{Map, Value, json};

use crate::load::Call;
use crate::pgbench::{Fanout, Protocol, Workload};
use crate::postgres::Dataset;
use crate::statements;

/// Ids per store: enough that calls do not all read the same rows, few enough that pgbench's
/// preparation stays out of the measurement (PostgreSQL 15's pgbench prepares every statement of
/// its script, one per id, at each client's first transaction).
const IDS_PER_STORE: u32 = 16;
pub const PAGE_SIZE: usize = 25;
/// A status filter as the webapp's run list sends it.
const FILTER_STATUSES: [&str; 2] = ["COMPLETED", "FAILED"];

pub struct Scenario {
    pub name: &'static str,
    pub call: Call,
    pub pgbench: Option<Workload>,
}

const GET_RUN: &str = "runview.v1.ReadService/GetRun";
const LIST_RUNS: &str = "runview.v1.ReadService/ListRuns";
const GET_WAITPOINT: &str = "runview.v1.ReadService/GetWaitpoint";
const LIST_BATCHES: &str = "runview.v1.ReadService/ListBatches";
const LIST_WAITPOINTS: &str = "runview.v1.ReadService/ListWaitpoints";
const GET_BATCH: &str = "runview.v1.ReadService/GetBatch";

async fn run_ids(dataset: &Dataset) -> anyhow::Result<Vec<Vec<String>>> {
    let mut per_store = Vec::new();
    for url in dataset.store_urls() {
        let records = ids::read_records(
            &url,
            Kind::Runs,
            Some(&dataset.environment_id),
            IDS_PER_STORE,
        )
        .await?;
        per_store.push(records.into_iter().map(|(id, _)| id).collect());
    }
    Ok(per_store)
}

pub async fn get_run(dataset: &Dataset, full: bool) -> anyhow::Result<Scenario> {
    let per_store = run_ids(dataset).await?;
    let view = if full {
        "RUN_VIEW_FULL"
    } else {
        "RUN_VIEW_BASIC"
    };
    let records = per_store
        .iter()
        .map(|list| {
            list.iter()
                .map(|id| (id.clone(), dataset.environment_id.clone()))
                .collect()
        })
        .collect();
    let extra = Map::from_iter([("view".to_owned(), json!(view))]);
    let messages = ids::messages(Kind::Runs, ids::interleave(records, usize::MAX), &extra);
    let workload = Workload {
        protocol: Protocol::Prepared,
        fanout: Fanout::OneStore,
        stores: dataset
            .store_urls()
            .into_iter()
            .zip(&per_store)
            .map(|(url, ids)| {
                (
                    url,
                    statements::find_run(ids, &dataset.environment_id, full),
                )
            })
            .collect(),
    };
    Ok(Scenario {
        name: if full {
            "GetRun (full)"
        } else {
            "GetRun (basic)"
        },
        call: Call {
            method: GET_RUN,
            data: Value::Array(messages),
        },
        pgbench: Some(workload),
    })
}

pub fn list_runs(dataset: &Dataset, filtered: bool) -> anyhow::Result<Scenario> {
    let statuses: &[&str] = if filtered { &FILTER_STATUSES } else { &[] };
    let script = statements::list_runs(&dataset.environment_id, PAGE_SIZE, statuses, Utc::now())?;
    let workload = Workload {
        // Filtered statements are sent unnamed, planned with their values every time.
        protocol: if filtered {
            Protocol::Extended
        } else {
            Protocol::Prepared
        },
        fanout: Fanout::EveryStore,
        stores: dataset
            .store_urls()
            .into_iter()
            .map(|url| (url, script.clone()))
            .collect(),
    };
    let mut data = json!({"environment_id": dataset.environment_id, "page_size": PAGE_SIZE});
    if filtered {
        data["statuses"] = json!(FILTER_STATUSES);
    }
    Ok(Scenario {
        name: if filtered {
            "ListRuns (status filter)"
        } else {
            "ListRuns"
        },
        call: Call {
            method: LIST_RUNS,
            data,
        },
        pgbench: Some(workload),
    })
}

pub async fn get_waitpoint(dataset: &Dataset) -> anyhow::Result<Scenario> {
    let mut per_store = Vec::new();
    for url in dataset.store_urls() {
        per_store.push(ids::read_records(&url, Kind::Waitpoints, None, IDS_PER_STORE).await?);
    }
    let messages = ids::messages(
        Kind::Waitpoints,
        ids::interleave(per_store, usize::MAX),
        &Map::new(),
    );
    Ok(Scenario {
        name: "GetWaitpoint",
        call: Call {
            method: GET_WAITPOINT,
            data: Value::Array(messages),
        },
        pgbench: None,
    })
}

pub fn list_batches(dataset: &Dataset, run_counts: bool) -> Scenario {
    Scenario {
        name: if run_counts {
            "ListBatches (run counts)"
        } else {
            "ListBatches"
        },
        call: Call {
            method: LIST_BATCHES,
            data: json!({
                "environment_id": dataset.environment_id,
                "page_size": PAGE_SIZE,
                "include_run_counts": run_counts,
            }),
        },
        pgbench: None,
    }
}

/// The first page of tokens, or with `filtered` the pending ones with a tag: filters no index
/// serves, so each store walks its tokens up to the scan budget.
pub fn list_waitpoints(dataset: &Dataset, filtered: bool) -> Scenario {
    let mut data = json!({
        "environment_id": dataset.environment_id,
        "page_size": PAGE_SIZE,
    });
    if filtered {
        data["statuses"] = json!(["WAITPOINT_STATUS_WAITING"]);
        data["tags"] = json!(["approval"]);
    }
    Scenario {
        name: if filtered {
            "ListWaitpoints (WAITING, tag)"
        } else {
            "ListWaitpoints"
        },
        call: Call {
            method: LIST_WAITPOINTS,
            data,
        },
        pgbench: None,
    }
}

/// GetBatch in the FULL view, as the public retrieve API asks it, over batches of both stores.
/// Every call reads both stores with the same id (a hit in one, a miss in the other), so each
/// store's pgbench draws from every id.
pub async fn get_batch(dataset: &Dataset) -> anyhow::Result<Scenario> {
    let mut per_store = Vec::new();
    for url in dataset.store_urls() {
        let records = ids::read_records(
            &url,
            Kind::Batches,
            Some(&dataset.environment_id),
            IDS_PER_STORE,
        )
        .await?;
        per_store.push(records);
    }
    let records = ids::interleave(per_store, usize::MAX);
    let bodies: Vec<String> = records
        .iter()
        .map(|(id, _)| id.trim_start_matches("batch_").to_owned())
        .collect();
    let extra = Map::from_iter([("view".to_owned(), json!("BATCH_VIEW_FULL"))]);
    let script = statements::find_batch(&bodies, &dataset.environment_id, true);
    Ok(Scenario {
        name: "GetBatch (full)",
        call: Call {
            method: GET_BATCH,
            data: Value::Array(ids::messages(Kind::Batches, records, &extra)),
        },
        pgbench: Some(Workload {
            protocol: Protocol::Prepared,
            fanout: Fanout::EveryStore,
            stores: dataset
                .store_urls()
                .into_iter()
                .map(|url| (url, script.clone()))
                .collect(),
        }),
    })
}

/// `CacheService/Invalidate` of everything, to measure cold control-plane lookups.
pub fn invalidate_all() -> Call {
    Call {
        method: "runview.v1.CacheService/Invalidate",
        data: json!({"all": true}),
    }
}
