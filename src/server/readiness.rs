//! Readiness follows the databases with hysteresis: it turns NOT_SERVING only after several
//! consecutive failed checks and SERVING again only after consecutive successes, so one slow
//! check never flaps a pod out of its Service. Each database has its own failure threshold: the
//! control plane's outlasts the stale-if-error window, since cached entries keep answering until
//! then. Readiness also waits for the invalidation listener: a cache this replica cannot
//! invalidate is a stale cache (see [`ListenerWatch`]). Liveness never looks at a database.

use std::time::Duration;

use runview_controlplane::ListenerWatch;
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
    crate::metrics::record_readiness(status == ServingStatus::Serving);
}

/// One database readiness depends on.
pub struct Dependency {
    pub database: &'static str,
    pub pool: PgPool,
    /// Consecutive failed checks before this database makes the server NOT_SERVING.
    pub failure_threshold: u32,
}

/// The failed checks that span `window`, at least `minimum`.
pub fn checks_spanning(window: Duration, interval: Duration, minimum: u32) -> u32 {
    let checks = window.as_millis().div_ceil(interval.as_millis().max(1));
    u32::try_from(checks).unwrap_or(u32::MAX).max(minimum)
}

/// Checks the databases every `interval`, and follows the invalidation listener as it changes.
pub fn watch(
    reporter: HealthReporter,
    dependencies: Vec<Dependency>,
    mut listener: ListenerWatch,
    interval: Duration,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut states: Vec<Hysteresis> = dependencies
            .iter()
            .map(|dependency| Hysteresis::new(dependency.failure_threshold))
            .collect();
        let mut databases_serving = false;
        let mut heard = false;
        let mut ticks = tokio::time::interval(interval);
        loop {
            tokio::select! {
                _ = ticks.tick() => {
                    let answers = futures::future::join_all(dependencies.iter().map(answers)).await;
                    databases_serving = states
                        .iter_mut()
                        .zip(answers)
                        .fold(true, |serving, (state, answered)| {
                            state.observe(answered) && serving
                        });
                }
                () = listener.changed() => {}
                () = shutdown.cancelled() => return,
            }
            if shutdown.is_cancelled() {
                return;
            }
            let trusted = listener.trusted();
            if heard && !trusted {
                tracing::warn!(
                    "readiness check failed: cache invalidations have not been heard for the cache TTL"
                );
            }
            heard = trusted;
            let status = if databases_serving && trusted {
                ServingStatus::Serving
            } else {
                ServingStatus::NotServing
            };
            set(&reporter, status).await;
        }
    })
}

async fn answers(dependency: &Dependency) -> bool {
    let ping = sqlx::query("SELECT 1").execute(&dependency.pool);
    match tokio::time::timeout(CHECK_TIMEOUT, ping).await {
        Ok(Ok(_)) => true,
        // The cause, so that an operator paged on readiness knows where to look. Mapping keeps
        // connection settings out of it.
        Ok(Err(error)) => {
            let cause = runview_pg::map_error(dependency.database, error);
            tracing::warn!(database = dependency.database, %cause, "readiness check failed");
            false
        }
        Err(_) => {
            tracing::warn!(
                database = dependency.database,
                timeout = ?CHECK_TIMEOUT,
                "readiness check failed: no answer in time"
            );
            false
        }
    }
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
    fn the_control_plane_threshold_outlasts_the_stale_window() {
        let interval = Duration::from_secs(2);
        assert_eq!(checks_spanning(Duration::from_secs(300), interval, 3), 150);
        assert_eq!(
            checks_spanning(Duration::from_secs(1), interval, 3),
            3,
            "never below the minimum"
        );
        assert_eq!(checks_spanning(Duration::ZERO, interval, 3), 3);
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
