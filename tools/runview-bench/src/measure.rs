//! A measurement guarded against a busy machine: CPU that neither runview, PostgreSQL nor the
//! load generators used ("foreign" CPU) means someone else competed for the cores, so the run is
//! repeated, up to twice, and the retries are recorded.

use std::future::Future;

use crate::cpu::{Snapshot, Usage};
use crate::load::Sample;

const MAX_RETRIES: u32 = 2;

#[derive(Clone, Copy, Debug, Default)]
pub struct Measured {
    pub sample: Sample,
    pub usage: Usage,
    pub retries: u32,
}

impl Measured {
    /// runview's CPU time per call, in microseconds.
    pub fn server_cpu_per_call_us(&self) -> f64 {
        self.usage.server_seconds * 1e6 / self.sample.calls.max(1) as f64
    }

    /// PostgreSQL's CPU time per call, in microseconds.
    pub fn postgres_cpu_per_call_us(&self) -> f64 {
        self.usage.postgres_seconds * 1e6 / self.sample.calls.max(1) as f64
    }
}

pub struct Guard {
    pub server_pid: u32,
    /// Foreign CPU, in cores, above which a run is repeated.
    pub threshold: f64,
}

impl Guard {
    pub async fn measure<F, Fut>(&self, mut run: F) -> anyhow::Result<Measured>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = anyhow::Result<Sample>>,
    {
        let mut retries = 0;
        loop {
            let before = Snapshot::take(self.server_pid);
            let sample = run().await?;
            let usage = before.until(&Snapshot::take(self.server_pid));
            if usage.foreign_cores <= self.threshold || retries == MAX_RETRIES {
                return Ok(Measured {
                    sample,
                    usage,
                    retries,
                });
            }
            retries += 1;
            eprintln!(
                "  foreign CPU {:.2} cores > {:.2}: repeating ({retries}/{MAX_RETRIES})",
                usage.foreign_cores, self.threshold
            );
        }
    }
}
