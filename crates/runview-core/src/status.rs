//! Run statuses: the stored status, its public name per API version, and the flags derived from it.

/// The stored "TaskRunStatus".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TaskRunStatus {
    Delayed,
    Pending,
    PendingVersion,
    WaitingForDeploy,
    Dequeued,
    Executing,
    WaitingToResume,
    RetryingAfterFailure,
    Paused,
    Canceled,
    Interrupted,
    CompletedSuccessfully,
    CompletedWithErrors,
    SystemFailure,
    Crashed,
    Expired,
    TimedOut,
}

/// Which public status mapping a caller asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ApiVersion {
    /// The original mapping (the default).
    #[default]
    V1,
    /// The `2025-07-16` mapping.
    V2,
}

/// The status name callers see.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PublicRunStatus {
    Delayed,
    Queued,
    PendingVersion,
    WaitingForDeploy,
    Dequeued,
    Executing,
    Reattempting,
    Frozen,
    Waiting,
    Canceled,
    Completed,
    Failed,
    Interrupted,
    SystemFailure,
    Crashed,
    Expired,
    TimedOut,
}

impl TaskRunStatus {
    pub const ALL: [Self; 17] = [
        Self::Delayed,
        Self::Pending,
        Self::PendingVersion,
        Self::WaitingForDeploy,
        Self::Dequeued,
        Self::Executing,
        Self::WaitingToResume,
        Self::RetryingAfterFailure,
        Self::Paused,
        Self::Canceled,
        Self::Interrupted,
        Self::CompletedSuccessfully,
        Self::CompletedWithErrors,
        Self::SystemFailure,
        Self::Crashed,
        Self::Expired,
        Self::TimedOut,
    ];

    /// The PostgreSQL enum label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delayed => "DELAYED",
            Self::Pending => "PENDING",
            Self::PendingVersion => "PENDING_VERSION",
            Self::WaitingForDeploy => "WAITING_FOR_DEPLOY",
            Self::Dequeued => "DEQUEUED",
            Self::Executing => "EXECUTING",
            Self::WaitingToResume => "WAITING_TO_RESUME",
            Self::RetryingAfterFailure => "RETRYING_AFTER_FAILURE",
            Self::Paused => "PAUSED",
            Self::Canceled => "CANCELED",
            Self::Interrupted => "INTERRUPTED",
            Self::CompletedSuccessfully => "COMPLETED_SUCCESSFULLY",
            Self::CompletedWithErrors => "COMPLETED_WITH_ERRORS",
            Self::SystemFailure => "SYSTEM_FAILURE",
            Self::Crashed => "CRASHED",
            Self::Expired => "EXPIRED",
            Self::TimedOut => "TIMED_OUT",
        }
    }

    pub fn from_label(label: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == label)
    }

    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Canceled
                | Self::Interrupted
                | Self::CompletedSuccessfully
                | Self::CompletedWithErrors
                | Self::SystemFailure
                | Self::Crashed
                | Self::Expired
                | Self::TimedOut
        )
    }

    pub fn public(self, api_version: ApiVersion) -> PublicRunStatus {
        use PublicRunStatus as P;
        match (self, api_version) {
            (Self::Delayed, _) => P::Delayed,
            (Self::Pending, _) => P::Queued,
            (Self::PendingVersion, _) => P::PendingVersion,
            (Self::WaitingForDeploy, ApiVersion::V1) => P::WaitingForDeploy,
            (Self::WaitingForDeploy, ApiVersion::V2) => P::PendingVersion,
            (Self::Dequeued, ApiVersion::V1) => P::Executing,
            (Self::Dequeued, ApiVersion::V2) => P::Dequeued,
            (Self::Executing, _) => P::Executing,
            (Self::RetryingAfterFailure, ApiVersion::V1) => P::Reattempting,
            (Self::RetryingAfterFailure, ApiVersion::V2) => P::Executing,
            (Self::WaitingToResume | Self::Paused, ApiVersion::V1) => P::Frozen,
            (Self::WaitingToResume | Self::Paused, ApiVersion::V2) => P::Waiting,
            (Self::Canceled, _) => P::Canceled,
            (Self::CompletedSuccessfully, _) => P::Completed,
            (Self::CompletedWithErrors, _) => P::Failed,
            (Self::Interrupted, ApiVersion::V1) => P::Interrupted,
            (Self::Interrupted, ApiVersion::V2) => P::Failed,
            (Self::SystemFailure, _) => P::SystemFailure,
            (Self::Crashed, _) => P::Crashed,
            (Self::Expired, _) => P::Expired,
            (Self::TimedOut, _) => P::TimedOut,
        }
    }
}

/// How a public status in a list filter becomes stored statuses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize)]
pub enum StatusFilterMode {
    /// The upstream list API's mapping, lossy on purpose for compatibility.
    #[default]
    Upstream,
    /// Every stored status that displays as the requested status in the caller's API version.
    Complete,
}

impl PublicRunStatus {
    pub const ALL: [Self; 17] = [
        Self::Delayed,
        Self::Queued,
        Self::PendingVersion,
        Self::WaitingForDeploy,
        Self::Dequeued,
        Self::Executing,
        Self::Reattempting,
        Self::Frozen,
        Self::Waiting,
        Self::Canceled,
        Self::Completed,
        Self::Failed,
        Self::Interrupted,
        Self::SystemFailure,
        Self::Crashed,
        Self::Expired,
        Self::TimedOut,
    ];

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == name)
    }

    /// The stored statuses a filter on this public status selects. `None` when, in COMPLETE
    /// mode, no stored status displays as this one in `api_version` (e.g. FROZEN in v2).
    pub fn stored_statuses(
        self,
        mode: StatusFilterMode,
        api_version: ApiVersion,
    ) -> Option<Vec<TaskRunStatus>> {
        let statuses: Vec<TaskRunStatus> = match mode {
            StatusFilterMode::Upstream => self.upstream_filter().to_vec(),
            StatusFilterMode::Complete => TaskRunStatus::ALL
                .into_iter()
                .filter(|stored| stored.public(api_version) == self)
                .collect(),
        };
        (!statuses.is_empty()).then_some(statuses)
    }

    /// The upstream list API's public → stored mapping.
    fn upstream_filter(self) -> &'static [TaskRunStatus] {
        use TaskRunStatus as S;
        match self {
            Self::Delayed => &[S::Delayed],
            Self::Queued => &[S::Pending],
            Self::PendingVersion => &[S::PendingVersion],
            Self::WaitingForDeploy => &[S::WaitingForDeploy],
            Self::Dequeued => &[S::Dequeued],
            Self::Executing => &[S::Executing],
            Self::Reattempting => &[S::RetryingAfterFailure],
            Self::Frozen => &[S::Paused, S::WaitingToResume],
            Self::Waiting => &[S::WaitingToResume],
            Self::Canceled => &[S::Canceled],
            Self::Completed => &[S::CompletedSuccessfully],
            Self::Failed => &[S::CompletedWithErrors],
            Self::Interrupted => &[S::Interrupted],
            Self::SystemFailure => &[S::SystemFailure],
            Self::Crashed => &[S::Crashed],
            Self::Expired => &[S::Expired],
            Self::TimedOut => &[S::TimedOut],
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delayed => "DELAYED",
            Self::Queued => "QUEUED",
            Self::PendingVersion => "PENDING_VERSION",
            Self::WaitingForDeploy => "WAITING_FOR_DEPLOY",
            Self::Dequeued => "DEQUEUED",
            Self::Executing => "EXECUTING",
            Self::Reattempting => "REATTEMPTING",
            Self::Frozen => "FROZEN",
            Self::Waiting => "WAITING",
            Self::Canceled => "CANCELED",
            Self::Completed => "COMPLETED",
            Self::Failed => "FAILED",
            Self::Interrupted => "INTERRUPTED",
            Self::SystemFailure => "SYSTEM_FAILURE",
            Self::Crashed => "CRASHED",
            Self::Expired => "EXPIRED",
            Self::TimedOut => "TIMED_OUT",
        }
    }
}

/// The seven booleans every run carries, derived from its public status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunFlags {
    pub is_queued: bool,
    pub is_executing: bool,
    pub is_waiting: bool,
    pub is_completed: bool,
    pub is_success: bool,
    pub is_failed: bool,
    pub is_cancelled: bool,
}

impl RunFlags {
    pub fn of(status: PublicRunStatus) -> Self {
        use PublicRunStatus as P;
        // EXPIRED and TIMED_OUT are deliberately not "completed", as upstream.
        let is_completed = matches!(
            status,
            P::Completed | P::Canceled | P::Failed | P::Crashed | P::Interrupted | P::SystemFailure
        );
        Self {
            is_queued: matches!(
                status,
                P::Queued | P::WaitingForDeploy | P::Delayed | P::PendingVersion
            ),
            is_executing: matches!(
                status,
                P::Executing | P::Reattempting | P::Frozen | P::Dequeued
            ),
            is_waiting: status == P::Waiting,
            is_completed,
            is_success: status == P::Completed,
            is_failed: is_completed && status != P::Completed,
            is_cancelled: status == P::Canceled,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use ApiVersion::{V1, V2};
    use PublicRunStatus as P;
    use TaskRunStatus as S;

    /// domain.md's table, row by row: internal, v2, v1.
    const MAPPING: [(S, P, P); 17] = [
        (S::Delayed, P::Delayed, P::Delayed),
        (S::Pending, P::Queued, P::Queued),
        (S::PendingVersion, P::PendingVersion, P::PendingVersion),
        (S::WaitingForDeploy, P::PendingVersion, P::WaitingForDeploy),
        (S::Dequeued, P::Dequeued, P::Executing),
        (S::Executing, P::Executing, P::Executing),
        (S::RetryingAfterFailure, P::Executing, P::Reattempting),
        (S::WaitingToResume, P::Waiting, P::Frozen),
        (S::Paused, P::Waiting, P::Frozen),
        (S::Canceled, P::Canceled, P::Canceled),
        (S::CompletedSuccessfully, P::Completed, P::Completed),
        (S::CompletedWithErrors, P::Failed, P::Failed),
        (S::Interrupted, P::Failed, P::Interrupted),
        (S::SystemFailure, P::SystemFailure, P::SystemFailure),
        (S::Crashed, P::Crashed, P::Crashed),
        (S::Expired, P::Expired, P::Expired),
        (S::TimedOut, P::TimedOut, P::TimedOut),
    ];

    #[test]
    fn every_status_maps_as_the_domain_table_says_in_both_api_versions() {
        for (internal, v2, v1) in MAPPING {
            assert_eq!(internal.public(V2), v2, "{internal:?} in v2");
            assert_eq!(internal.public(V1), v1, "{internal:?} in v1");
        }
        assert_eq!(MAPPING.len(), TaskRunStatus::ALL.len());
    }

    #[test]
    fn labels_round_trip_for_every_status() {
        for status in TaskRunStatus::ALL {
            assert_eq!(TaskRunStatus::from_label(status.as_str()), Some(status));
        }
        assert_eq!(TaskRunStatus::from_label("completed_successfully"), None);
    }

    #[test]
    fn flags_follow_the_public_status() {
        // (public, queued, executing, waiting, completed, success, failed, cancelled)
        let table = [
            (P::Delayed, [1, 0, 0, 0, 0, 0, 0]),
            (P::Queued, [1, 0, 0, 0, 0, 0, 0]),
            (P::PendingVersion, [1, 0, 0, 0, 0, 0, 0]),
            (P::WaitingForDeploy, [1, 0, 0, 0, 0, 0, 0]),
            (P::Dequeued, [0, 1, 0, 0, 0, 0, 0]),
            (P::Executing, [0, 1, 0, 0, 0, 0, 0]),
            (P::Reattempting, [0, 1, 0, 0, 0, 0, 0]),
            (P::Frozen, [0, 1, 0, 0, 0, 0, 0]),
            (P::Waiting, [0, 0, 1, 0, 0, 0, 0]),
            (P::Canceled, [0, 0, 0, 1, 0, 1, 1]),
            (P::Completed, [0, 0, 0, 1, 1, 0, 0]),
            (P::Failed, [0, 0, 0, 1, 0, 1, 0]),
            (P::Interrupted, [0, 0, 0, 1, 0, 1, 0]),
            (P::SystemFailure, [0, 0, 0, 1, 0, 1, 0]),
            (P::Crashed, [0, 0, 0, 1, 0, 1, 0]),
            (P::Expired, [0, 0, 0, 0, 0, 0, 0]),
            (P::TimedOut, [0, 0, 0, 0, 0, 0, 0]),
        ];
        for (public, expected) in table {
            let flags = RunFlags::of(public);
            let actual = [
                flags.is_queued,
                flags.is_executing,
                flags.is_waiting,
                flags.is_completed,
                flags.is_success,
                flags.is_failed,
                flags.is_cancelled,
            ]
            .map(u8::from);
            assert_eq!(actual, expected, "flags of {public:?}");
        }
    }

    #[test]
    fn waiting_runs_are_executing_in_v1_and_waiting_in_v2() {
        assert!(RunFlags::of(S::WaitingToResume.public(V1)).is_executing);
        assert!(RunFlags::of(S::WaitingToResume.public(V2)).is_waiting);
    }

    #[test]
    fn the_upstream_filter_is_lossy_and_the_complete_filter_is_not() {
        use StatusFilterMode::{Complete, Upstream};
        assert_eq!(
            P::Waiting.stored_statuses(Upstream, V2),
            Some(vec![S::WaitingToResume])
        );
        assert_eq!(
            P::Waiting.stored_statuses(Complete, V2),
            Some(vec![S::WaitingToResume, S::Paused])
        );
        assert_eq!(
            P::Failed.stored_statuses(Upstream, V2),
            Some(vec![S::CompletedWithErrors])
        );
        assert_eq!(
            P::Failed.stored_statuses(Complete, V2),
            Some(vec![S::Interrupted, S::CompletedWithErrors])
        );
        assert_eq!(
            P::Frozen.stored_statuses(Upstream, V1),
            Some(vec![S::Paused, S::WaitingToResume])
        );
        assert_eq!(
            P::Frozen.stored_statuses(Complete, V2),
            None,
            "FROZEN does not exist in v2"
        );
    }

    #[test]
    fn the_complete_filter_is_the_inverse_of_the_display_mapping() {
        for version in [V1, V2] {
            for public in PublicRunStatus::ALL {
                for stored in public
                    .stored_statuses(StatusFilterMode::Complete, version)
                    .unwrap_or_default()
                {
                    assert_eq!(stored.public(version), public);
                }
            }
            for stored in TaskRunStatus::ALL {
                let shown = stored.public(version);
                let selected = shown
                    .stored_statuses(StatusFilterMode::Complete, version)
                    .unwrap_or_default();
                assert!(
                    selected.contains(&stored),
                    "{stored:?} is selected by {shown:?}"
                );
            }
        }
    }

    #[test]
    fn public_names_round_trip() {
        for public in PublicRunStatus::ALL {
            assert_eq!(PublicRunStatus::from_name(public.as_str()), Some(public));
        }
        assert_eq!(PublicRunStatus::from_name("completed"), None);
    }

    #[test]
    fn final_statuses_are_exactly_the_eight_of_the_domain() {
        let finals: Vec<_> = TaskRunStatus::ALL
            .into_iter()
            .filter(|s| s.is_final())
            .collect();
        assert_eq!(finals.len(), 8);
        assert!(!S::Executing.is_final());
    }
}
