//! The filter matrix: every ListRuns and ListBatches filter with a common, a rare and an absent
//! value, on its first page and on a deep page, one call at a time, with the rows PostgreSQL
//! examined per call.

use std::path::Path;
use std::time::{Duration, Instant};

use runview::proto as pb;
use runview::proto::read_service_client::ReadServiceClient;
use tonic::transport::Channel;

use crate::examined::Examined;
use crate::filter_values::{self, Filter, List, Picked};
use crate::postgres::Dataset;
use crate::scenarios::PAGE_SIZE;
use crate::server::Server;

/// The page a deep cell measures, when the list has that many; else its last page.
pub const DEEP_PAGE: u32 = 20;
/// Calls made with a cell's request before it is measured (statement caches, plans).
const WARM_UP_CALLS: u32 = 3;
/// Fewest calls a cell is measured over, however slow they are.
const MIN_CALLS: usize = 5;
/// A call that takes longer is counted as failed: far past any page's latency target.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// One measured (filter, value, page).
pub struct Cell {
    pub picked: Picked,
    /// 1 for the first page.
    pub page: u32,
    pub calls: usize,
    pub failures: usize,
    pub p50: Duration,
    pub p99: Duration,
    /// Records per answered page.
    pub rows_per_page: f64,
    /// Rows PostgreSQL examined per call, per store (LEGACY first).
    pub examined_per_call: Vec<f64>,
}

pub struct FilterMatrix {
    pub runs: usize,
    pub environment_runs: i64,
    pub cells: Vec<Cell>,
}

/// Measures every cell against a runview of its own with one connection per store (so that
/// statistics can be settled, see [`Examined`]).
pub async fn measure(
    binary: &Path,
    dataset: &Dataset,
    per_cell: Duration,
) -> anyhow::Result<FilterMatrix> {
    eprintln!("{} runs: choosing the filter matrix's values", dataset.runs);
    let picked = filter_values::pick_all(dataset).await?;
    let empty_environment = filter_values::empty_environment(dataset).await?;
    let server =
        Server::start_with(binary, dataset, &[("RUNVIEW_POOL_MAX_CONNECTIONS", "1")]).await?;
    let channel = Channel::from_shared(format!("http://{}", server.grpc_addr))?
        .connect()
        .await?;
    let client = Client {
        inner: ReadServiceClient::new(channel),
        environment_id: dataset.environment_id.clone(),
    };
    let examined = Examined::connect(dataset).await?;
    let probe = Picked {
        list: List::Runs,
        filter: Filter::None,
        class: filter_values::Class::Unfiltered,
        value: String::new(),
        matches: 0,
    };
    let settle = || async {
        let mut probing = client.clone();
        probing.environment_id.clone_from(&empty_environment);
        probing.page(&probe, "").await.map(|_| ())
    };
    let mut cells = Vec::new();
    for picked in picked {
        eprintln!(
            "{} runs: {} {} {} {:?}",
            dataset.runs,
            picked.list.name(),
            picked.filter.field(),
            picked.class.name(),
            picked.value
        );
        let table = picked.list.table();
        let mut client = client.clone();
        for _ in 0..WARM_UP_CALLS {
            // A failure here shows again, counted, in the measured calls.
            let _ = client.page(&picked, "").await;
        }
        examined.settle(settle).await?;
        let before = examined.read(table).await?;
        let mut first = client.run_cell(&picked, "", per_cell).await;
        examined.settle(settle).await?;
        let after = examined.read(table).await?;
        first.set_examined(&before, &after);
        cells.push(first.into_cell(picked.clone(), 1));

        let (page, token) = match client.walk_to(&picked, DEEP_PAGE).await {
            Ok(Some(deep)) => deep,
            Ok(None) => continue,
            Err(error) => {
                // The first page's cell already counts the failure; there is no deep page.
                eprintln!("  the walk to page {DEEP_PAGE} failed: {error:#}");
                continue;
            }
        };
        examined.settle(settle).await?;
        let before = examined.read(table).await?;
        let mut deep = client.run_cell(&picked, &token, per_cell).await;
        examined.settle(settle).await?;
        let after = examined.read(table).await?;
        deep.set_examined(&before, &after);
        cells.push(deep.into_cell(picked, page));
    }
    examined.close().await;
    server.stop().await?;
    Ok(FilterMatrix {
        runs: dataset.runs,
        environment_runs: dataset.environment_runs,
        cells,
    })
}

#[derive(Clone)]
struct Client {
    inner: ReadServiceClient<Channel>,
    environment_id: String,
}

/// What one page call gave: its records and the token of the next page.
struct Page {
    rows: usize,
    next: String,
}

#[derive(Default)]
struct Run {
    latencies: Vec<Duration>,
    failures: usize,
    rows: usize,
    examined: Vec<f64>,
}

impl Run {
    fn set_examined(&mut self, before: &[i64], after: &[i64]) {
        let calls = (self.latencies.len() + self.failures).max(1) as f64;
        self.examined = before
            .iter()
            .zip(after)
            .map(|(b, a)| (a - b) as f64 / calls)
            .collect();
    }

    fn into_cell(mut self, picked: Picked, page: u32) -> Cell {
        self.latencies.sort();
        let at = |q: f64| {
            let last = self.latencies.len().saturating_sub(1);
            self.latencies
                .get(((last as f64) * q).round() as usize)
                .copied()
                .unwrap_or_default()
        };
        Cell {
            picked,
            page,
            calls: self.latencies.len(),
            failures: self.failures,
            p50: at(0.50),
            p99: at(0.99),
            rows_per_page: self.rows as f64 / self.latencies.len().max(1) as f64,
            examined_per_call: self.examined,
        }
    }
}

impl Client {
    /// Calls the page behind `token` one at a time for `duration` (and at least [`MIN_CALLS`]
    /// times); failed calls are counted, not fatal.
    async fn run_cell(&mut self, picked: &Picked, token: &str, duration: Duration) -> Run {
        let mut run = Run::default();
        let started = Instant::now();
        while started.elapsed() < duration || run.latencies.len() + run.failures < MIN_CALLS {
            let call = Instant::now();
            match self.page(picked, token).await {
                Ok(page) => {
                    run.latencies.push(call.elapsed());
                    run.rows += page.rows;
                }
                Err(error) => {
                    run.failures += 1;
                    eprintln!("  failed: {error:#}");
                }
            }
        }
        run
    }

    /// Follows next-page tokens up to page `deepest`; the page reached and its token, or None when
    /// the list has one page.
    async fn walk_to(
        &mut self,
        picked: &Picked,
        deepest: u32,
    ) -> anyhow::Result<Option<(u32, String)>> {
        let mut reached = None;
        let mut token = self.page(picked, "").await?.next;
        for page in 2..=deepest {
            if token.is_empty() {
                break;
            }
            let next = self.page(picked, &token).await?.next;
            reached = Some((page, std::mem::replace(&mut token, next)));
        }
        Ok(reached)
    }

    async fn page(&mut self, picked: &Picked, token: &str) -> anyhow::Result<Page> {
        match picked.list {
            List::Runs => {
                let mut request =
                    tonic::Request::new(runs_request(picked, &self.environment_id, token));
                request.set_timeout(CALL_TIMEOUT);
                let response = self.inner.list_runs(request).await?.into_inner();
                Ok(Page {
                    rows: response.runs.len(),
                    next: response.next_page_token,
                })
            }
            List::Batches => {
                let mut request =
                    tonic::Request::new(batches_request(picked, &self.environment_id, token));
                request.set_timeout(CALL_TIMEOUT);
                let response = self.inner.list_batches(request).await?.into_inner();
                Ok(Page {
                    rows: response.batches.len(),
                    next: response.next_page_token,
                })
            }
        }
    }
}

fn runs_request(picked: &Picked, environment_id: &str, token: &str) -> pb::ListRunsRequest {
    let mut request = pb::ListRunsRequest {
        environment_id: environment_id.to_owned(),
        page_size: PAGE_SIZE as i32,
        page_token: token.to_owned(),
        status_filter_mode: pb::StatusFilterMode::Complete as i32,
        ..Default::default()
    };
    let value = picked.value.clone();
    match picked.filter {
        Filter::Statuses => request.statuses = vec![value],
        Filter::TaskIdentifiers => request.task_identifiers = vec![value],
        Filter::Versions => request.versions = vec![value],
        Filter::Tags => request.tags = vec![value],
        Filter::BatchId => request.batch_id = Some(value),
        Filter::ScheduleId => request.schedule_id = Some(value),
        Filter::IsTest => request.is_test = Some(value == "true"),
        Filter::Queues => request.queues = vec![value],
        Filter::Regions => request.regions = vec![value],
        Filter::Machines => request.machines = vec![value],
        Filter::BulkActionId => request.bulk_action_id = Some(value),
        Filter::None | Filter::BatchStatuses | Filter::BatchFriendlyId => {}
    }
    request
}

fn batches_request(picked: &Picked, environment_id: &str, token: &str) -> pb::ListBatchesRequest {
    let mut request = pb::ListBatchesRequest {
        environment_id: environment_id.to_owned(),
        page_size: PAGE_SIZE as i32,
        page_token: token.to_owned(),
        ..Default::default()
    };
    match picked.filter {
        Filter::BatchStatuses => {
            let name = format!("BATCH_STATUS_{}", picked.value);
            request.statuses = vec![pb::BatchStatus::from_str_name(&name).map_or(0, |s| s as i32)];
        }
        Filter::BatchFriendlyId => request.batch_id = Some(picked.value.clone()),
        _ => {}
    }
    request
}
