//! The one domain error. Its variants are shaped after gRPC codes so the edge maps each exactly
//! once; adapters convert their own errors into it at their own boundary.

use std::fmt;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The kind of record a NOT_FOUND is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    Run,
    Waitpoint,
    Batch,
    Environment,
}

impl Resource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Run => "run",
            Self::Waitpoint => "waitpoint",
            Self::Batch => "batch",
            Self::Environment => "environment",
        }
    }
}

/// Why an argument was refused; page tokens get their own reason so callers can restart paging.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvalidReason {
    Argument,
    PageToken,
}

/// One bad request field, named as in the proto request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("{} `{id}` was not found", resource.as_str())]
    NotFound { resource: Resource, id: String },
    #[error("invalid argument: {}", DisplayViolations(violations))]
    InvalidArgument {
        reason: InvalidReason,
        violations: Vec<FieldViolation>,
    },
    /// A database could not be reached in time; `dependency` names which, never how to reach it.
    #[error("{dependency} is unavailable: {detail}")]
    Unavailable { dependency: String, detail: String },
    #[error("the deadline passed before the request completed")]
    DeadlineExceeded,
    #[error("the server is overloaded")]
    Overloaded,
    /// A bug or an unexpected state; logged once at the edge and masked for the caller.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn invalid_argument(field: impl Into<String>, description: impl fmt::Display) -> Self {
        Self::InvalidArgument {
            reason: InvalidReason::Argument,
            violations: vec![FieldViolation {
                field: field.into(),
                description: description.to_string(),
            }],
        }
    }

    pub fn not_found(resource: Resource, id: impl Into<String>) -> Self {
        Self::NotFound {
            resource,
            id: id.into(),
        }
    }

    pub fn unavailable(dependency: impl Into<String>, detail: impl fmt::Display) -> Self {
        Self::Unavailable {
            dependency: dependency.into(),
            detail: detail.to_string(),
        }
    }
}

struct DisplayViolations<'a>(&'a [FieldViolation]);

impl fmt::Display for DisplayViolations<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, violation) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "`{}` {}", violation.field, violation.description)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_argument_names_the_field_in_its_message() {
        let error = Error::invalid_argument("run_id", "must not be empty");
        assert_eq!(
            error.to_string(),
            "invalid argument: `run_id` must not be empty"
        );
    }

    #[test]
    fn not_found_names_the_record() {
        let error = Error::not_found(Resource::Run, "run_abc");
        assert_eq!(error.to_string(), "run `run_abc` was not found");
    }
}
