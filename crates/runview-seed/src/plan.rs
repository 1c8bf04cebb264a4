//! What to seed: the size and shape of a dataset. The same plan (seed and `now` included) always
//! yields the same rows.

use chrono::{DateTime, TimeDelta, Utc};

use crate::showcase::showcase_runs;
use crate::stream::Store;

/// The size and shape of a seeded dataset.
///
/// The control plane is a fixed topology (see [`crate::DemoHighlights`] for the environments it
/// always contains) plus `extra_organizations`; run-ops volumes scale with `runs`.
#[derive(Clone, Debug)]
pub struct SeedPlan {
    /// Seeds every random choice; with `now`, it fully determines the dataset.
    pub seed: u64,
    /// Every timestamp is at or before `now`, except the future `delayUntil` of delayed runs.
    pub now: DateTime<Utc>,
    /// Runs in both stores together.
    pub runs: usize,
    /// Share of `runs` that live in the NEW store.
    pub new_share: f64,
    /// Organizations beyond the first, each with a project holding a PRODUCTION and a
    /// DEVELOPMENT environment.
    pub extra_organizations: usize,
    /// Deployed versions per environment, spread over the history.
    pub workers_per_environment: usize,
    pub schedules_per_project: usize,
    /// How far back runs go. LEGACY holds the older part and NEW the newer part, overlapping.
    pub history: TimeDelta,
    /// Share of root groups that trigger children (and sometimes grandchildren).
    pub tree_share: f64,
    /// Share of root groups that are a batch (half of them triggered by a parent run).
    pub batch_share: f64,
    /// Share of lone root runs started by a schedule.
    pub scheduled_share: f64,
    /// Children of the one wide parent per store (above 100, to show the children cap).
    pub wide_parent_children: usize,
    /// Runs per store whose id has the other store's shape.
    pub misfiled_runs_per_store: usize,
    /// Cuid-shaped batches that live in NEW.
    pub cuid_batches_in_new: usize,
    /// MANUAL waitpoints (tokens) per run.
    pub tokens_per_run: f64,
    /// Share of waited-for children whose completion is tracked by a RUN waitpoint.
    pub run_waitpoint_share: f64,
    /// Encoded bytes per COPY chunk; with the channel depth this bounds the memory used.
    pub chunk_bytes: usize,
}

impl SeedPlan {
    /// The dataset of the embedded default: about ten thousand runs, 40% of them in NEW.
    pub fn demo(now: DateTime<Utc>) -> Self {
        Self {
            seed: 0x5eed_2026,
            now,
            runs: 10_000,
            new_share: 0.4,
            extra_organizations: 2,
            workers_per_environment: 4,
            schedules_per_project: 3,
            history: TimeDelta::days(6),
            tree_share: 0.12,
            batch_share: 0.04,
            scheduled_share: 0.05,
            wide_parent_children: 150,
            misfiled_runs_per_store: 5,
            cuid_batches_in_new: 2,
            tokens_per_run: 0.03,
            run_waitpoint_share: 0.3,
            chunk_bytes: 4 << 20,
        }
    }

    /// The expected share of `runs` in the largest environment, the first organization's
    /// production: `85 / (95 + 2.5 × extra_organizations)`, so 0.85 with the demo plan's two
    /// extra organizations. The environment also holds every showcase row (a few hundred runs),
    /// so seeding `n / share` runs gives it at least `n`.
    pub fn largest_environment_share(&self) -> f64 {
        crate::catalog::production_share(self.extra_organizations)
    }

    /// Runs planned for the NEW store.
    pub fn runs_new(&self) -> usize {
        (self.runs as f64 * self.new_share).round() as usize
    }

    /// Runs planned for the LEGACY store.
    pub fn runs_legacy(&self) -> usize {
        self.runs - self.runs_new()
    }

    /// Refuses plans that could not hold the showcase rows the highlights point at.
    pub(crate) fn validate(&self) -> Result<(), String> {
        let shares = [
            ("new_share", self.new_share),
            ("tree_share", self.tree_share),
            ("batch_share", self.batch_share),
            ("scheduled_share", self.scheduled_share),
            ("run_waitpoint_share", self.run_waitpoint_share),
        ];
        if let Some((name, _)) = shares.iter().find(|(_, v)| !(0.0..=1.0).contains(v)) {
            return Err(format!("{name} must be between 0 and 1"));
        }
        if self.tree_share + self.batch_share > 1.0 {
            return Err("tree_share and batch_share must add up to at most 1".into());
        }
        if !(0.0..=1.0).contains(&self.tokens_per_run) {
            return Err("tokens_per_run must be between 0 and 1".into());
        }
        if self.misfiled_runs_per_store == 0 || self.cuid_batches_in_new == 0 {
            return Err("the showcase needs misfiled runs and a cuid batch in NEW".into());
        }
        let minimum = 2 * showcase_runs(self, Store::New);
        if self.runs_legacy() < minimum || self.runs_new() < minimum {
            return Err(format!(
                "each store needs at least {minimum} runs for the showcase rows; \
                 the plan gives LEGACY {} and NEW {}",
                self.runs_legacy(),
                self.runs_new()
            ));
        }
        if self.workers_per_environment == 0 || self.schedules_per_project == 0 {
            return Err("every environment needs a worker and every project a schedule".into());
        }
        if self.history < TimeDelta::hours(2) {
            return Err("history must be at least two hours".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_plan_is_valid_and_splits_runs_between_stores() {
        let plan = SeedPlan::demo(Utc::now());
        assert_eq!(plan.validate(), Ok(()));
        assert_eq!(plan.runs_new(), 4_000);
        assert_eq!(plan.runs_legacy() + plan.runs_new(), plan.runs);
    }

    #[test]
    fn plans_too_small_for_the_showcase_are_refused() {
        let plan = SeedPlan {
            runs: 100,
            ..SeedPlan::demo(Utc::now())
        };
        assert!(plan.validate().is_err());
        let plan = SeedPlan {
            new_share: 1.5,
            ..SeedPlan::demo(Utc::now())
        };
        assert!(plan.validate().is_err());
    }
}
