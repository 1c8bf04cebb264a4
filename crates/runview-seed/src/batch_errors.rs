//! The items of a new-engine batch that could not be triggered: the "BatchTaskRunError" rows its
//! completion writes in the batch's own store.

use rand::seq::index::sample;
use rand::{Rng, rngs::StdRng};

use crate::copy::RunOpsTable;
use crate::stream::StoreGenerator;
use crate::values::cuid;

/// Items of a batch that could not be triggered, beside the ones that became runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FailedItems {
    None,
    /// Each failure is a row of its own.
    Each(usize),
    /// Every failure hit the environment's queue size limit: the upstream collapses them into
    /// one row at the first failure's index, whose message counts them.
    QueueSizeLimit(usize),
}

impl FailedItems {
    /// What a PARTIAL_FAILED batch lost: mostly a few items, sometimes many, sometimes all of
    /// its rejected items to a full queue.
    pub fn random(rng: &mut StdRng) -> Self {
        match rng.random_range(0..100) {
            0..60 => Self::Each(rng.random_range(1..=3)),
            60..85 => Self::Each(rng.random_range(4..=40)),
            _ => Self::QueueSizeLimit(rng.random_range(5..=200)),
        }
    }

    pub fn count(self) -> usize {
        match self {
            Self::None => 0,
            Self::Each(count) | Self::QueueSizeLimit(count) => count,
        }
    }
}

/// Why an item could not be triggered, as the batch queue records it. The first has no code, as
/// errors recorded before codes existed do not.
const ITEM_ERRORS: [(Option<&str>, &str); 4] = [
    (None, "Task is not deployed to this environment"),
    (
        Some("TRIGGER_ERROR"),
        "Invalid idempotency key TTL: must be between 1s and 30d",
    ),
    (
        Some("PAYLOAD_TOO_LARGE"),
        "Payload exceeds maximum size of 3145728 bytes",
    ),
    (
        Some("UNEXPECTED_ERROR"),
        "Connection terminated unexpectedly",
    ),
];

const QUEUE_SIZE_LIMIT_EXCEEDED: &str = "QUEUE_SIZE_LIMIT_EXCEEDED";

/// One error row of [`StoreGenerator::item_errors`].
struct ItemError<'a> {
    index: usize,
    code: Option<&'a str>,
    message: &'a str,
}

impl StoreGenerator<'_> {
    /// The item indexes of `failed` items among `items`, ascending.
    pub fn failed_item_indexes(&mut self, items: usize, failed: FailedItems) -> Vec<usize> {
        let mut indexes = sample(&mut self.rng, items, failed.count()).into_vec();
        indexes.sort_unstable();
        indexes
    }

    /// The error rows of batch `batch_id` for its failed items at `indexes`, written when its
    /// processing completed at `at`.
    pub fn item_errors(
        &mut self,
        batch_id: &str,
        task: &str,
        failed: FailedItems,
        indexes: &[usize],
        at: i64,
    ) {
        match failed {
            FailedItems::None => {}
            FailedItems::Each(_) => {
                let first = self.rng.random_range(0..ITEM_ERRORS.len());
                for (offset, &index) in indexes.iter().enumerate() {
                    let (code, message) = ITEM_ERRORS[(first + offset) % ITEM_ERRORS.len()];
                    let error = ItemError {
                        index,
                        code,
                        message,
                    };
                    self.item_error(batch_id, task, &error, at);
                }
            }
            FailedItems::QueueSizeLimit(count) => {
                let message = format!(
                    "Cannot trigger {task} as the queue size limit for this environment has been \
                     reached. The maximum size is 500 ({count} items in this batch failed with \
                     the same error)"
                );
                let error = ItemError {
                    index: indexes[0],
                    code: Some(QUEUE_SIZE_LIMIT_EXCEEDED),
                    message: &message,
                };
                self.item_error(batch_id, task, &error, at);
            }
        }
    }

    fn item_error(&mut self, batch_id: &str, task: &str, error: &ItemError<'_>, at: i64) {
        let id = cuid(&mut self.rng, at);
        // Most items carry a payload of their own; options only when the caller set some.
        let payload = self
            .rng
            .random_bool(0.6)
            .then(|| format!(r#"{{"rowId":{}}}"#, self.rng.random_range(1..100_000)));
        let options = self
            .rng
            .random_bool(0.3)
            .then(|| serde_json::json!({ "tags": ["import"], "maxAttempts": 3 }));
        let mut row = self.sink.row(RunOpsTable::BatchTaskRunError);
        row.text(&id)
            .text(batch_id)
            .plain(error.index)
            .text(task)
            .opt_text(payload.as_deref())
            .opt_json(options.as_ref())
            .text(error.message)
            .opt_text(error.code)
            .timestamp(at);
        row.end();
    }
}
