//! What an invalidation drops, and the notice that carries it between replicas.

use serde::{Deserialize, Serialize};

/// The cached control-plane entries an invalidation drops.
///
/// Between replicas it travels as a JSON notice: `{"scope":"environment","id":"…"}`,
/// `{"scope":"organization","id":"…"}` or `{"scope":"all"}`. The control-plane triggers of
/// `migrations/full/0002_invalidation_triggers.sql` write the same notices.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "scope", content = "id", rename_all = "snake_case")]
pub enum InvalidationScope {
    /// One environment, present or remembered as absent.
    Environment(String),
    /// Every environment of one organization.
    Organization(String),
    /// Every entry of every kind.
    All,
}

impl InvalidationScope {
    /// Names the scope in metrics, never its id.
    pub(crate) fn label(&self) -> &'static str {
        match self {
            Self::Environment(_) => "environment",
            Self::Organization(_) => "organization",
            Self::All => "all",
        }
    }

    pub(crate) fn to_notice(&self) -> serde_json::Result<String> {
        serde_json::to_string(self)
    }

    pub(crate) fn from_notice(notice: &str) -> serde_json::Result<Self> {
        serde_json::from_str(notice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scope_survives_a_round_trip_through_its_notice() {
        for scope in [
            InvalidationScope::Environment("env_1".to_owned()),
            InvalidationScope::Organization("org_1".to_owned()),
            InvalidationScope::All,
        ] {
            let notice = scope.to_notice().expect("serializes");
            assert_eq!(InvalidationScope::from_notice(&notice).ok(), Some(scope));
        }
    }

    #[test]
    fn notices_read_as_the_triggers_write_them() {
        // PostgreSQL's json_build_object puts spaces around the colons.
        let cases = [
            (
                r#"{"scope" : "environment", "id" : "env_1"}"#,
                InvalidationScope::Environment("env_1".to_owned()),
            ),
            (
                r#"{"scope" : "organization", "id" : "org_1"}"#,
                InvalidationScope::Organization("org_1".to_owned()),
            ),
            (r#"{"scope" : "all"}"#, InvalidationScope::All),
        ];
        for (notice, scope) in cases {
            assert_eq!(InvalidationScope::from_notice(notice).ok(), Some(scope));
        }
    }

    #[test]
    fn malformed_notices_are_errors() {
        for notice in [
            "",
            "env_1",
            "{}",
            r#"{"scope":"environment"}"#,
            r#"{"scope":"project","id":"project_1"}"#,
            r#"{"scope":"environment","id":42}"#,
        ] {
            assert!(InvalidationScope::from_notice(notice).is_err(), "{notice}");
        }
    }
}
