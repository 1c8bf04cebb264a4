//! Readiness follows the databases with hysteresis: it turns NOT_SERVING only after several
//! consecutive failed checks and SERVING again only after consecutive successes, so one slow
//! check never flaps a pod out of its Service. Liveness never looks at a database.

use std::time::Duration;

use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

/// Health service names Kubernetes probes ask for.
pub const LIVENESS: &str = "liveness";
pub const READINESS: &str = "readiness";

const CHECK_TIMEOUT: Duration = Duration::from_secs(1);
/// Successes in a row needed to come back.
const RECOVERY_THRESHOLD: u32 = 2;

/// Counts consecutive outcomes and decides the serving status.
#[derive(Debug)]
pub(crate) struct Hysteresis {
    failure_threshold: u32,
    failures: u32,
    successes: u32,
    serving: bool,
}

impl Hysteresis {
    /// Starts NOT_SERVING: the first successful check makes the server ready.
    pub fn new(failure_threshold: u32) -> Self {
        Self {
            failure_threshold: failure_threshold.max(1),
            failures: 0,
            successes: RECOVERY_THRESHOLD,
            serving: false,
        }
    }

    pub fn observe(&mut self, healthy: bool) -> bool {
        if healthy {
            self.failures = 0;
            self.successes = self.successes.saturating_add(1);
            if self.successes >= RECOVERY_THRESHOLD {
                self.serving = true;
            }
        } else {
            self.successes = 0;
            self.failures = self.failures.saturating_add(1);
            if self.failures >= self.failure_threshold {
                self.serving = false;
            }
        }
        self.serving
    }
}

pub async fn set(reporter: &HealthReporter, status: ServingStatus) {
    reporter.set_service_status(READINESS, status).await;
    reporter.set_service_status("", status).await;
}

pub fn watch(
    reporter: HealthReporter,
    pools: Vec<(&'static str, PgPool)>,
    interval: Duration,
    failure_threshold: u32,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut hysteresis = Hysteresis::new(failure_threshold);
        let mut ticks = tokio::time::interval(interval);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                () = shutdown.cancelled() => return,
            }
            let serving = hysteresis.observe(databases_answer(&pools).await);
            if shutdown.is_cancelled() {
                return;
            }
            let status = if serving {
                ServingStatus::Serving
            } else {
                ServingStatus::NotServing
            };
            set(&reporter, status).await;
        }
    })
}

async fn databases_answer(pools: &[(&'static str, PgPool)]) -> bool {
    let checks = pools.iter().map(|(database, pool)| async move {
        let ping = sqlx::query("SELECT 1").execute(pool);
        let ok = matches!(tokio::time::timeout(CHECK_TIMEOUT, ping).await, Ok(Ok(_)));
        if !ok {
            tracing::warn!(database, "readiness check failed");
        }
        ok
    });
    futures::future::join_all(checks)
        .await
        .into_iter()
        .all(|ok| ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_success_makes_the_server_ready() {
        let mut hysteresis = Hysteresis::new(3);
        assert!(hysteresis.observe(true));
    }

    #[test]
    fn readiness_drops_only_after_the_failure_threshold_and_returns_after_two_successes() {
        let mut hysteresis = Hysteresis::new(3);
        hysteresis.observe(true);
        assert!(hysteresis.observe(false), "one failure is tolerated");
        assert!(hysteresis.observe(false), "two failures are tolerated");
        assert!(
            !hysteresis.observe(false),
            "the third failure turns NOT_SERVING"
        );
        assert!(
            !hysteresis.observe(true),
            "one success is not enough to come back"
        );
        assert!(hysteresis.observe(true), "two successes come back");
    }

    #[test]
    fn a_success_between_failures_resets_the_count() {
        let mut hysteresis = Hysteresis::new(2);
        hysteresis.observe(true);
        hysteresis.observe(false);
        hysteresis.observe(true);
        assert!(hysteresis.observe(false), "the count restarted");
    }
}
