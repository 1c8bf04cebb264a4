//! Pools of realistic values and the small random helpers the generators share.

use rand::{Rng, SeedableRng, rngs::StdRng};
use runview_core::ids::mint_cuid_body;

/// Tasks triggered by code (the first one is the showcase task).
pub(crate) const TASKS: [&str; 8] = [
    "process-order",
    "send-welcome-email",
    "generate-invoice",
    "resize-image",
    "sync-crm-contacts",
    "summarize-document",
    "transcode-video",
    "import-csv",
];

/// Tasks started by schedules, with the cron expression and its description.
pub(crate) const SCHEDULED_TASKS: [(&str, &str, &str); 4] = [
    ("daily-digest", "0 9 * * *", "At 09:00 AM"),
    ("cleanup-sessions", "*/15 * * * *", "Every 15 minutes"),
    ("weekly-report", "0 8 * * 1", "At 08:00 AM, only on Monday"),
    ("refresh-exchange-rates", "0 * * * *", "Every hour"),
];

pub(crate) const TIMEZONES: [&str; 3] = ["UTC", "Europe/London", "America/New_York"];

pub(crate) const TAGS: [&str; 8] = [
    "user:1042",
    "user:2203",
    "org:acme",
    "priority:high",
    "priority:low",
    "source:webhook",
    "campaign:spring",
    "region:eu",
];

pub(crate) const MACHINES: [&str; 5] = ["micro", "small-1x", "small-2x", "medium-1x", "large-1x"];

/// Worker queues; the region shown for a run without its own region is the part before `:`.
pub(crate) const WORKER_QUEUES: [&str; 3] = ["us-east-1", "eu-central-1", "ap-southeast-1"];

/// Shared queues some tasks are put on instead of their own `task/<slug>` queue.
pub(crate) const SHARED_QUEUES: [&str; 2] = ["emails", "media-pipeline"];

/// Error names and messages of failed runs.
pub(crate) const ERRORS: [(&str, &str); 4] = [
    ("Error", "Request failed with status code 502"),
    (
        "TypeError",
        "Cannot read properties of undefined (reading 'id')",
    ),
    ("TimeoutError", "Operation timed out after 30000ms"),
    ("AbortTaskRunError", "Customer cus_82kd9 was deleted"),
];

pub(crate) const IDEMPOTENCY_SCOPES: [&str; 3] = ["run", "attempt", "global"];

/// Share of runs and tokens that have tags: most are created without any.
pub(crate) const TAGGED_SHARE: f64 = 0.35;

pub(crate) const TOKEN_TAGS: [&str; 4] =
    ["approval", "manual-review", "webhook:stripe", "user:1042"];

/// The independent random streams of a seeded dataset. Each phase draws from its own, so that
/// phases can run in parallel and still produce the same rows for the same seed.
#[derive(Clone, Copy)]
pub(crate) enum RandomStream {
    Catalog = 1,
    LegacyRuns = 2,
    NewRuns = 3,
    Tokens = 4,
}

impl RandomStream {
    pub fn rng(self, seed: u64) -> StdRng {
        StdRng::seed_from_u64(seed ^ ((self as u64) << 56))
    }
}

pub(crate) fn pick<T: Copy>(rng: &mut StdRng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

pub(crate) fn hex(rng: &mut StdRng, bytes: usize) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes * 2);
    for _ in 0..bytes {
        let byte: u8 = rng.random();
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 15)]));
    }
    text
}

pub(crate) fn lowercase(rng: &mut StdRng, len: usize) -> String {
    (0..len)
        .map(|_| char::from(b'a' + rng.random_range(0..26u8)))
        .collect()
}

pub(crate) fn alphanumeric(rng: &mut StdRng, len: usize) -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    (0..len).map(|_| char::from(pick(rng, ALPHABET))).collect()
}

/// A cuid minted at `unix_ms`, the shape of every LEGACY id and of every waitpoint.
pub(crate) fn cuid(rng: &mut StdRng, unix_ms: i64) -> String {
    mint_cuid_body(unix_ms_u64(unix_ms), rng.random())
}

pub(crate) fn unix_ms_u64(unix_ms: i64) -> u64 {
    u64::try_from(unix_ms).expect("seeded timestamps are after 1970")
}

/// The tags of a run or token: none for most of them (stored as NULL, as the upstream does), else
/// one to `max` distinct tags in the order they were given (readers sort them for display).
pub(crate) fn some_tags(rng: &mut StdRng, pool: &[&'static str], max: usize) -> Vec<&'static str> {
    if !rng.random_bool(TAGGED_SHARE) {
        return Vec::new();
    }
    let count = rng.random_range(1..=max);
    let mut tags: Vec<&'static str> = Vec::with_capacity(count);
    while tags.len() < count {
        let tag = pick(rng, pool);
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    tags
}
