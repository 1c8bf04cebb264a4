//! A bounded, uniform sample of each environment's runs, kept while a store's runs stream past
//! so that tokens generated afterwards can connect to real runs without holding them all.

use rand::{Rng, rngs::StdRng};

/// A run kept as a candidate for the tokens generated after the runs.
#[derive(Clone)]
pub(crate) struct SampledRun {
    pub id: String,
    pub created_at: i64,
}

/// A uniform sample of each environment's runs (reservoir sampling), bounded in size.
pub(crate) struct Reservoir {
    per_environment: Vec<(u64, Vec<SampledRun>)>,
}

const RESERVOIR_PER_ENVIRONMENT: usize = 64;

impl Reservoir {
    pub fn new(environments: usize) -> Self {
        Self {
            per_environment: vec![(0, Vec::new()); environments],
        }
    }

    pub fn offer(
        &mut self,
        rng: &mut StdRng,
        environment: usize,
        run: impl FnOnce() -> SampledRun,
    ) {
        let (seen, sample) = &mut self.per_environment[environment];
        *seen += 1;
        if sample.len() < RESERVOIR_PER_ENVIRONMENT {
            sample.push(run());
        } else {
            let slot = rng.random_range(0..*seen) as usize;
            if slot < RESERVOIR_PER_ENVIRONMENT {
                sample[slot] = run();
            }
        }
    }

    pub fn runs_of(&self, environment: usize) -> &[SampledRun] {
        &self.per_environment[environment].1
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn the_sample_stays_bounded_and_reaches_late_runs() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut reservoir = Reservoir::new(2);
        for index in 0..10_000 {
            reservoir.offer(&mut rng, 0, || SampledRun {
                id: index.to_string(),
                created_at: index,
            });
        }
        let sample = reservoir.runs_of(0);
        assert_eq!(sample.len(), RESERVOIR_PER_ENVIRONMENT);
        assert!(sample.iter().any(|run| run.created_at > 5_000));
        assert!(reservoir.runs_of(1).is_empty());
    }
}
