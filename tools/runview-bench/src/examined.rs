//! Rows PostgreSQL examined for a list, read from its own statistics: heap rows fetched by
//! sequential and index scans of the list's table (`pg_stat_user_tables`), in every store.
//!
//! A backend publishes its counts when it goes idle at least a second after its previous
//! publication, so a reading is only exact after every backend that ran a list statement has
//! done so. The matrix server keeps one connection per store, and [`Examined::settle`] waits a
//! second, then makes a list call that reads no row (an environment without runs) through that
//! connection: when it returns, the counts of everything before it are published.

use std::time::Duration;

use sqlx::PgPool;

use crate::postgres::Dataset;

/// Longer than PostgreSQL's minimum interval between two publications of a backend's counts.
const PUBLICATION_INTERVAL: Duration = Duration::from_millis(1_100);
/// The probe's counts are published before PostgreSQL reports the statement ready, which may
/// reach runview after its answer reached the benchmark.
const AFTER_PROBE: Duration = Duration::from_millis(100);

pub struct Examined {
    stores: Vec<PgPool>,
}

impl Examined {
    pub async fn connect(dataset: &Dataset) -> anyhow::Result<Self> {
        Ok(Self {
            stores: dataset.connect_stores().await?,
        })
    }

    /// Waits until the counts of every statement made so far are published: `probe` must make a
    /// call that reaches every store and reads no row of `table`.
    pub async fn settle<F, Fut>(&self, probe: F) -> anyhow::Result<()>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = anyhow::Result<()>>,
    {
        tokio::time::sleep(PUBLICATION_INTERVAL).await;
        probe().await?;
        tokio::time::sleep(AFTER_PROBE).await;
        Ok(())
    }

    /// Heap rows of `table` examined so far, per store (LEGACY first).
    pub async fn read(&self, table: &str) -> anyhow::Result<Vec<i64>> {
        let mut counts = Vec::with_capacity(self.stores.len());
        for store in &self.stores {
            let count: Option<i64> = sqlx::query_scalar(
                "SELECT (coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0))::bigint
                 FROM pg_stat_user_tables WHERE relname = $1",
            )
            .bind(table)
            .fetch_optional(store)
            .await?;
            counts.push(count.unwrap_or(0));
        }
        Ok(counts)
    }

    pub async fn close(self) {
        for store in self.stores {
            store.close().await;
        }
    }
}
