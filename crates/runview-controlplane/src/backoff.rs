//! How long the invalidation listener waits before connecting again: doubling from 100 ms up to
//! 10 s, with jitter so that replicas which lost the database together do not return in lockstep.

use std::time::Duration;

const FIRST: Duration = Duration::from_millis(100);
const LONGEST: Duration = Duration::from_secs(10);

pub(crate) struct Backoff {
    step: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self { step: FIRST }
    }
}

impl Backoff {
    /// A random wait in the upper half of the current step; the next step is twice as long.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let step = self.step;
        self.step = (step * 2).min(LONGEST);
        step.mul_f64(rand::random_range(0.5..=1.0))
    }

    /// After a connection that worked, the next failure starts over from the first step.
    pub(crate) fn reset(&mut self) {
        self.step = FIRST;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_longest_step_within_their_jitter() {
        let mut backoff = Backoff::default();
        let mut step = FIRST;
        for _ in 0..12 {
            let delay = backoff.next_delay();
            assert!(
                delay >= step / 2 && delay <= step,
                "{delay:?} for a step of {step:?}"
            );
            step = (step * 2).min(LONGEST);
        }
        assert_eq!(step, LONGEST);
    }

    #[test]
    fn a_reset_starts_over_from_the_first_step() {
        let mut backoff = Backoff::default();
        for _ in 0..5 {
            backoff.next_delay();
        }
        backoff.reset();
        assert!(backoff.next_delay() <= FIRST);
    }
}
