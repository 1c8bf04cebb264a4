//! Control-plane records as the resolver hands them to presenters.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

/// "RuntimeEnvironmentType".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EnvironmentType {
    Production,
    Staging,
    Development,
    Preview,
}

impl EnvironmentType {
    pub fn from_label(label: &str) -> Option<Self> {
        match label {
            "PRODUCTION" => Some(Self::Production),
            "STAGING" => Some(Self::Staging),
            "DEVELOPMENT" => Some(Self::Development),
            "PREVIEW" => Some(Self::Preview),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Production => "PRODUCTION",
            Self::Staging => "STAGING",
            Self::Development => "DEVELOPMENT",
            Self::Preview => "PREVIEW",
        }
    }
}

/// Who owns a DEVELOPMENT environment, as lists display it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnvironmentOwner {
    /// The user's display name, else their name.
    Named(String),
    /// The member or the user is gone.
    Deleted,
}

impl EnvironmentOwner {
    pub fn display_name(&self) -> &str {
        match self {
            Self::Named(name) => name,
            Self::Deleted => "Deleted",
        }
    }
}

/// The key that signs waitpoint callback URLs: the root environment's API key. It never leaves
/// runview, so it neither prints nor serializes.
#[derive(Clone)]
pub struct SigningKey(SecretString);

impl SigningKey {
    pub fn new(key: String) -> Self {
        Self(SecretString::from(key))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey([REDACTED])")
    }
}

/// An environment with everything presenters show of it.
#[derive(Clone, Debug)]
pub struct Environment {
    pub id: String,
    pub slug: String,
    pub environment_type: EnvironmentType,
    pub organization_id: String,
    pub organization_slug: String,
    pub project_id: String,
    pub project_slug: String,
    pub project_ref: String,
    pub branch_name: Option<String>,
    /// Only for DEVELOPMENT environments.
    pub owner: Option<EnvironmentOwner>,
    pub signing_key: SigningKey,
}

/// "BackgroundWorker": the version a run was locked to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerVersion {
    pub id: String,
    pub version: String,
}

/// "TaskSchedule", as a run shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub id: String,
    pub friendly_id: String,
    pub external_id: Option<String>,
    /// Only when the user provided it.
    pub deduplication_key: Option<String>,
    pub generator_type: String,
    pub generator_expression: String,
    pub generator_description: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_keys_never_print() {
        let key = SigningKey::new("tr_prod_secret".into());
        assert!(!format!("{key:?}").contains("secret"));
        assert_eq!(key.expose(), "tr_prod_secret");
    }

    #[test]
    fn a_gone_owner_displays_as_deleted() {
        assert_eq!(EnvironmentOwner::Deleted.display_name(), "Deleted");
        assert_eq!(EnvironmentOwner::Named("Ada".into()).display_name(), "Ada");
    }
}
