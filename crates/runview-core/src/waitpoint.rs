//! Waitpoint records, the token status callers see, and the signed callback URL.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::control_plane::SigningKey;
use crate::ids::{RunId, WaitpointId};
use crate::status::StatusFilterMode;

/// "WaitpointType".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitpointType {
    Run,
    DateTime,
    /// A waitpoint token.
    Manual,
    Batch,
}

impl WaitpointType {
    pub fn from_label(label: &str) -> Option<Self> {
        match label {
            "RUN" => Some(Self::Run),
            "DATETIME" => Some(Self::DateTime),
            "MANUAL" => Some(Self::Manual),
            "BATCH" => Some(Self::Batch),
            _ => None,
        }
    }
}

/// The status a token shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum WaitpointStatus {
    Waiting,
    Completed,
    TimedOut,
}

impl WaitpointStatus {
    pub const ALL: [Self; 3] = [Self::Waiting, Self::Completed, Self::TimedOut];
}

/// The statuses a token list's status filter matches, each once and in [`WaitpointStatus::ALL`]
/// order; an empty filter matches every token. COMPLETE matches exactly what was asked. UPSTREAM
/// maps each status to a stored one (WAITING → PENDING; COMPLETED and TIMED_OUT → COMPLETED) and
/// tells COMPLETED from TIMED_OUT by the error output only when exactly one status is asked, so
/// WAITING with either of them also matches the other.
pub fn matched_token_statuses(
    requested: &[WaitpointStatus],
    mode: StatusFilterMode,
) -> Vec<WaitpointStatus> {
    let asked = |status| requested.contains(&status);
    let distinct = WaitpointStatus::ALL.into_iter().filter(|s| asked(*s));
    if mode == StatusFilterMode::Complete || distinct.clone().count() == 1 {
        return distinct.collect();
    }
    let completed = asked(WaitpointStatus::Completed) || asked(WaitpointStatus::TimedOut);
    WaitpointStatus::ALL
        .into_iter()
        .filter(|status| match status {
            WaitpointStatus::Waiting => asked(WaitpointStatus::Waiting),
            WaitpointStatus::Completed | WaitpointStatus::TimedOut => completed,
        })
        .collect()
}

/// One "Waitpoint" row with up to five runs it blocked (from every store).
#[derive(Clone, Debug, PartialEq)]
pub struct WaitpointRecord {
    pub id: WaitpointId,
    pub waitpoint_type: WaitpointType,
    /// The stored status is COMPLETED (else PENDING).
    pub completed: bool,
    pub environment_id: String,
    pub idempotency_key: String,
    pub user_provided_idempotency_key: bool,
    pub idempotency_key_expires_at: Option<DateTime<Utc>>,
    pub inactive_idempotency_key: Option<String>,
    pub completed_after: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub output: Option<String>,
    pub output_type: String,
    pub output_is_error: bool,
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
    /// The most recent runs first, at most [`MAX_CONNECTED_RUNS`].
    pub connected_runs: Vec<ConnectedRun>,
}

/// A run a waitpoint blocked, with what orders the connected runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectedRun {
    pub id: RunId,
    pub created_at: DateTime<Utc>,
}

/// Runs shown as connected to a waitpoint.
pub const MAX_CONNECTED_RUNS: usize = 5;

impl WaitpointRecord {
    /// Adds the runs connected in another store, keeping the [`MAX_CONNECTED_RUNS`] most recent
    /// (createdAt, then id, descending) of both.
    pub fn add_connected_runs(&mut self, more: Vec<ConnectedRun>) {
        let runs = &mut self.connected_runs;
        runs.extend(more);
        runs.sort_by(|a, b| (b.created_at, b.id.as_str()).cmp(&(a.created_at, a.id.as_str())));
        runs.dedup_by(|a, b| a.id == b.id);
        runs.truncate(MAX_CONNECTED_RUNS);
    }

    /// The key the user gave, as the upstream shows it: when a user's key expires and is reused,
    /// the old token's key moves to the inactive key and a random one replaces it, so the inactive
    /// key, when there is one, is what the user gave. Generated keys are not shown.
    pub fn user_idempotency_key(&self) -> Option<&str> {
        self.user_provided_idempotency_key.then(|| {
            self.inactive_idempotency_key
                .as_deref()
                .unwrap_or(&self.idempotency_key)
        })
    }

    /// PENDING → WAITING; COMPLETED → TIMED_OUT when the output is an error, else COMPLETED.
    pub fn status(&self) -> WaitpointStatus {
        match (self.completed, self.output_is_error) {
            (false, _) => WaitpointStatus::Waiting,
            (true, true) => WaitpointStatus::TimedOut,
            (true, false) => WaitpointStatus::Completed,
        }
    }
}

/// `<base>/api/v1/waitpoints/tokens/waitpoint_<id>/callback/<hex HMAC-SHA256(key, id)>`, signed
/// with the root environment's API key so rotating that key changes every URL.
pub fn callback_url(base: &str, id: &WaitpointId, key: &SigningKey) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.expose().as_bytes())
        // HMAC accepts keys of any length.
        .unwrap_or_else(|_| unreachable!());
    mac.update(id.as_str().as_bytes());
    let signature = hex::encode(mac.finalize().into_bytes());
    format!(
        "{}/api/v1/waitpoints/tokens/{}/callback/{signature}",
        base.trim_end_matches('/'),
        id.friendly()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> WaitpointRecord {
        WaitpointRecord {
            id: WaitpointId::from_stored("cwait"),
            waitpoint_type: WaitpointType::Manual,
            completed: false,
            environment_id: "env".into(),
            idempotency_key: "k".into(),
            user_provided_idempotency_key: false,
            idempotency_key_expires_at: None,
            inactive_idempotency_key: None,
            completed_after: None,
            completed_at: None,
            output: None,
            output_type: "application/json".into(),
            output_is_error: false,
            tags: Vec::new(),
            created_at: DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default(),
            connected_runs: Vec::new(),
        }
    }

    #[test]
    fn the_callback_url_is_signed_with_hmac_sha256_of_the_internal_id() {
        let id = WaitpointId::from_stored("cwait0000000000000000001");
        let key = SigningKey::new("tr_prod_key".into());
        // Reference value: printf 'cwait0000000000000000001' | openssl dgst -sha256 -hmac tr_prod_key
        let url = callback_url("https://app.example.com/", &id, &key);
        assert!(url.starts_with("https://app.example.com/api/v1/waitpoints/tokens/waitpoint_cwait0000000000000000001/callback/"));
        let signature = url.rsplit('/').next().unwrap_or_default();
        assert_eq!(signature.len(), 64);
        assert_eq!(
            signature,
            "abbd02da8637fe87cfbd14baa68a49dbc7e4ba1ae66480b7ac819c57c81e424f"
        );
    }

    #[test]
    fn rotating_the_key_changes_the_url() {
        let id = WaitpointId::from_stored("cwait0000000000000000001");
        let first = callback_url("http://x", &id, &SigningKey::new("a".into()));
        let second = callback_url("http://x", &id, &SigningKey::new("b".into()));
        assert_ne!(first, second);
    }

    #[test]
    fn token_status_follows_completion_and_error_output() {
        let mut record = token();
        record.output_is_error = true;
        assert_eq!(record.status(), WaitpointStatus::Waiting);
        record.completed = true;
        assert_eq!(record.status(), WaitpointStatus::TimedOut);
        record.output_is_error = false;
        assert_eq!(record.status(), WaitpointStatus::Completed);
    }

    #[test]
    fn upstream_status_filters_tell_errors_apart_only_for_a_single_status() {
        use WaitpointStatus::{Completed, TimedOut, Waiting};
        let upstream =
            |asked: &[WaitpointStatus]| matched_token_statuses(asked, StatusFilterMode::Upstream);
        let complete =
            |asked: &[WaitpointStatus]| matched_token_statuses(asked, StatusFilterMode::Complete);
        assert_eq!(upstream(&[]), []);
        assert_eq!(upstream(&[TimedOut]), [TimedOut]);
        assert_eq!(upstream(&[Completed, Completed]), [Completed]);
        // The upstream's defect, kept in its mode: one status more than asked.
        assert_eq!(
            upstream(&[Waiting, Completed]),
            [Waiting, Completed, TimedOut]
        );
        assert_eq!(
            upstream(&[TimedOut, Waiting]),
            [Waiting, Completed, TimedOut]
        );
        assert_eq!(upstream(&[TimedOut, Completed]), [Completed, TimedOut]);
        assert_eq!(complete(&[TimedOut, Waiting]), [Waiting, TimedOut]);
        assert_eq!(complete(&[Completed, Waiting]), [Waiting, Completed]);
    }

    #[test]
    fn the_user_key_is_the_inactive_one_once_replaced_and_never_a_generated_one() {
        let mut record = token();
        assert_eq!(record.user_idempotency_key(), None);
        record.user_provided_idempotency_key = true;
        assert_eq!(record.user_idempotency_key(), Some("k"));
        record.inactive_idempotency_key = Some("mine".into());
        assert_eq!(record.user_idempotency_key(), Some("mine"));
        record.user_provided_idempotency_key = false;
        assert_eq!(record.user_idempotency_key(), None);
    }

    #[test]
    fn connected_runs_of_both_stores_keep_the_five_most_recent() {
        let at =
            |seconds: i64| DateTime::from_timestamp(1_790_000_000 + seconds, 0).unwrap_or_default();
        let run = |id: &str, seconds: i64| ConnectedRun {
            id: RunId::from_stored(id),
            created_at: at(seconds),
        };
        let mut record = token();
        record.connected_runs = vec![run("a", 50), run("b", 40), run("c", 10)];
        record.add_connected_runs(vec![run("x", 45), run("y", 40), run("z", 5), run("w", 60)]);
        let ids: Vec<&str> = record
            .connected_runs
            .iter()
            .map(|r| r.id.as_str())
            .collect();
        // Ties on createdAt go to the greater id, as each store orders them.
        assert_eq!(ids, ["w", "a", "x", "y", "b"]);
    }
}
