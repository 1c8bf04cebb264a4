//! Side-by-side comparisons on the main dataset, alternating the two sides in rounds so that a
//! busy spell hits both alike: lookup coalescing on and off, and runview's recommended indexes
//! present and absent.

use std::path::Path;
use std::time::Duration;

use runview_store::RECOMMENDED_INDEXES;
use sqlx::PgPool;

use crate::load;
use crate::measure::{Guard, Measured};
use crate::phases::{median_by_p50, warm_up};
use crate::postgres::Dataset;
use crate::scenarios::Scenario;
use crate::server::Server;

/// The order of the sides over the rounds: each side goes first as often as last.
const ROUNDS: [bool; 6] = [true, false, false, true, true, false];

/// How every side is measured: a run of `round` per call and concurrency, repeated when other
/// processes used more than `threshold` cores.
pub struct Rounds {
    pub round: Duration,
    pub threshold: f64,
}

impl Rounds {
    async fn measure(
        &self,
        server: &Server,
        scenario: &Scenario,
        concurrency: u32,
        side: &str,
    ) -> anyhow::Result<Measured> {
        eprintln!("{side}: {} at c={concurrency}", scenario.name);
        let guard = Guard {
            server_pid: server.pid(),
            threshold: self.threshold,
        };
        guard
            .measure(|| load::run(server.grpc_addr, &scenario.call, concurrency, self.round))
            .await
    }
}

/// One call at one concurrency, measured on both sides.
pub struct SideBySide {
    pub scenario: &'static str,
    pub concurrency: u32,
    /// The side with the feature (coalescing on; recommended indexes present).
    pub with: Measured,
    pub without: Measured,
}

impl SideBySide {
    fn median(
        scenario: &'static str,
        concurrency: u32,
        with: Vec<Measured>,
        without: Vec<Measured>,
    ) -> Self {
        Self {
            scenario,
            concurrency,
            with: median_by_p50(with),
            without: median_by_p50(without),
        }
    }
}

/// GetRun and GetWaitpoint with `lookup_coalescing` on and off: two servers at once, measured in
/// turn.
pub async fn coalescing(
    binary: &Path,
    dataset: &Dataset,
    scenarios: &[&Scenario],
    concurrency: &[u32],
    rounds: &Rounds,
) -> anyhow::Result<Vec<SideBySide>> {
    let on = Server::start(binary, dataset).await?;
    let off =
        Server::start_with(binary, dataset, &[("RUNVIEW_LOOKUP_COALESCING", "false")]).await?;
    for scenario in scenarios {
        warm_up(&on, &scenario.call).await?;
        warm_up(&off, &scenario.call).await?;
    }
    let mut results = Vec::new();
    for scenario in scenarios {
        for &c in concurrency {
            let (mut with, mut without) = (Vec::new(), Vec::new());
            for coalescing in ROUNDS {
                let (server, side) = if coalescing {
                    (&on, "coalescing on")
                } else {
                    (&off, "coalescing off")
                };
                let measured = rounds.measure(server, scenario, c, side).await?;
                if coalescing { &mut with } else { &mut without }.push(measured);
            }
            results.push(SideBySide::median(scenario.name, c, with, without));
        }
    }
    on.stop().await?;
    off.stop().await?;
    Ok(results)
}

/// The lists with and without runview's recommended indexes, created and dropped between rounds
/// on every store of the dataset.
pub async fn recommended_indexes(
    binary: &Path,
    dataset: &Dataset,
    scenarios: &[&Scenario],
    concurrency: &[u32],
    rounds: &Rounds,
) -> anyhow::Result<Vec<SideBySide>> {
    let stores = dataset.connect_stores().await?;
    let server = Server::start(binary, dataset).await?;
    let mut with = vec![Vec::new(); scenarios.len() * concurrency.len()];
    let mut without = with.clone();
    let mut present = None;
    for indexed in ROUNDS {
        if present != Some(indexed) {
            set_recommended_indexes(&stores, indexed).await?;
            present = Some(indexed);
            // New plans for the statements runview keeps prepared.
            for scenario in scenarios {
                warm_up(&server, &scenario.call).await?;
            }
        }
        for (s, scenario) in scenarios.iter().enumerate() {
            for (k, &c) in concurrency.iter().enumerate() {
                let side = if indexed {
                    "recommended indexes present"
                } else {
                    "recommended indexes absent"
                };
                let measured = rounds.measure(&server, scenario, c, side).await?;
                let side = if indexed { &mut with } else { &mut without };
                side[s * concurrency.len() + k].push(measured);
            }
        }
    }
    set_recommended_indexes(&stores, false).await?;
    server.stop().await?;
    for store in stores {
        store.close().await;
    }
    let mut results = Vec::new();
    for (s, scenario) in scenarios.iter().enumerate() {
        for (k, &c) in concurrency.iter().enumerate() {
            let at = s * concurrency.len() + k;
            results.push(SideBySide::median(
                scenario.name,
                c,
                std::mem::take(&mut with[at]),
                std::mem::take(&mut without[at]),
            ));
        }
    }
    Ok(results)
}

/// Creates (and analyzes) or drops every recommended index, under names of the benchmark's own.
async fn set_recommended_indexes(stores: &[PgPool], present: bool) -> anyhow::Result<()> {
    for store in stores {
        for (index, recommended) in RECOMMENDED_INDEXES.iter().enumerate() {
            let name = format!("runview_bench_recommended_{index}");
            let sql = if present {
                format!(
                    r#"CREATE INDEX "{name}" ON "{}" ({})"#,
                    recommended.table, recommended.key
                )
            } else {
                format!(r#"DROP INDEX IF EXISTS "{name}""#)
            };
            sqlx::raw_sql(&sql).execute(store).await?;
        }
        if present {
            sqlx::raw_sql(r#"ANALYZE "TaskRun"; ANALYZE "BatchTaskRun""#)
                .execute(store)
                .await?;
        }
    }
    Ok(())
}
