//! Pools of realistic values and the small random helpers the generators share.

use rand::{Rng, SeedableRng, rngs::StdRng};
use runview_core::ids::mint_cuid_body;

/// Tasks triggered by code, most often triggered first (the first one is the showcase task).
pub(crate) const TASKS: [&str; 40] = [
    "process-order",
    "send-welcome-email",
    "generate-invoice",
    "resize-image",
    "sync-crm-contacts",
    "summarize-document",
    "transcode-video",
    "import-csv",
    "charge-subscription",
    "deliver-webhook",
    "send-password-reset",
    "refresh-search-index",
    "generate-thumbnail",
    "notify-slack",
    "sync-inventory",
    "classify-ticket",
    "enrich-lead",
    "export-report",
    "translate-content",
    "score-fraud-risk",
    "send-sms",
    "render-pdf",
    "embed-documents",
    "scrape-website",
    "reconcile-payments",
    "compute-usage",
    "send-push-notification",
    "moderate-comment",
    "geocode-address",
    "extract-invoice-data",
    "update-analytics",
    "provision-workspace",
    "transcribe-audio",
    "sync-calendar",
    "publish-post",
    "warm-cache",
    "archive-old-records",
    "rotate-api-keys",
    "backfill-customer-ids",
    "purge-deleted-accounts",
];

/// Tasks started by schedules, with the cron expression and its description.
pub(crate) const SCHEDULED_TASKS: [(&str, &str, &str); 4] = [
    ("daily-digest", "0 9 * * *", "At 09:00 AM"),
    ("cleanup-sessions", "*/15 * * * *", "Every 15 minutes"),
    ("weekly-report", "0 8 * * 1", "At 08:00 AM, only on Monday"),
    ("refresh-exchange-rates", "0 * * * *", "Every hour"),
];

pub(crate) const TIMEZONES: [&str; 3] = ["UTC", "Europe/London", "America/New_York"];

/// Tags of a pool, most common first; tagged runs may also name a user (`user:<id>`).
pub(crate) const TAGS: [&str; 24] = [
    "priority:high",
    "source:webhook",
    "org:acme",
    "priority:low",
    "source:api",
    "region:eu",
    "plan:pro",
    "campaign:spring",
    "plan:free",
    "source:dashboard",
    "region:us",
    "env:canary",
    "tenant:globex",
    "feature:checkout",
    "plan:enterprise",
    "batch:nightly",
    "region:apac",
    "campaign:black-friday",
    "experiment:new-pricing",
    "retry:manual",
    "source:cron",
    "tenant:initech",
    "priority:urgent",
    "feature:search",
];

/// Machine presets, most used first.
pub(crate) const MACHINES: [&str; 5] = ["small-1x", "micro", "small-2x", "medium-1x", "large-1x"];

/// Worker queues, busiest first; the region shown for a run without its own region is the part before `:`.
pub(crate) const WORKER_QUEUES: [&str; 3] = ["us-east-1", "eu-central-1", "ap-southeast-1"];

/// Shared queues some runs are put on instead of their task's own `task/<slug>` queue, busiest
/// first.
pub(crate) const SHARED_QUEUES: [&str; 10] = [
    "emails",
    "media-pipeline",
    "webhooks",
    "billing",
    "ai-inference",
    "notifications",
    "exports",
    "imports",
    "reports",
    "low-priority",
];

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

/// Tags of tokens, most common first; tagged tokens may also name a user (`user:<id>`).
pub(crate) const TOKEN_TAGS: [&str; 12] = [
    "approval",
    "manual-review",
    "webhook:stripe",
    "refund",
    "webhook:github",
    "kyc",
    "escalation",
    "llm:review",
    "fraud-check",
    "sla:24h",
    "contract:signature",
    "export",
];

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
