//! Record ids: parsing of friendly (`run_…`) or bare ids, and residency by id shape.
//!
//! Residency never fails: a body that is not a well-formed run-ops id, including anything
//! malformed, belongs to the LEGACY store. Validation for requests is separate ([`RunId::parse`]).

use std::fmt;

/// Which run-ops store an id's shape points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Residency {
    Legacy,
    New,
}

impl Residency {
    pub fn other(self) -> Self {
        match self {
            Self::Legacy => Self::New,
            Self::New => Self::Legacy,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Legacy => "legacy",
            Self::New => "new",
        }
    }
}

/// Body lengths the platform has minted: nanoid, cuid, run-ops id, the old base62 scheme.
const ACCEPTED_BODY_LENGTHS: [usize; 4] = [21, 25, 26, 27];
const RUNOPS_BODY_LENGTH: usize = 26;
const RUNOPS_CORE_LENGTH: usize = 24;
const KNOWN_PREFIXES: [&str; 3] = ["run", "batch", "waitpoint"];

/// Where a record lives, judged from the shape of its body alone.
pub fn residency_of(body: &str) -> Residency {
    if is_runops_body(body) {
        Residency::New
    } else {
        Residency::Legacy
    }
}

/// A run-ops body: 24 lowercase base32hex chars (time-sortable), a region or shard char, then the
/// scheme version `1` or `2`.
fn is_runops_body(body: &str) -> bool {
    let bytes = body.as_bytes();
    bytes.len() == RUNOPS_BODY_LENGTH
        && bytes[..RUNOPS_CORE_LENGTH]
            .iter()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'v'))
        && matches!(bytes[24], b'a'..=b'z' | b'0'..=b'9')
        && matches!(bytes[25], b'1' | b'2')
}

/// Why a requested id was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("must not be empty")]
    Empty,
    #[error("has the prefix `{found}_`, expected `{expected}_` or a bare id")]
    WrongPrefix {
        found: String,
        expected: &'static str,
    },
    #[error("must be {expected_lengths} characters after the prefix, got {found}")]
    BadLength {
        found: usize,
        expected_lengths: &'static str,
    },
    #[error("must contain only ASCII letters and digits")]
    NotAlphanumeric,
}

/// Strips one known prefix (which must be `expected`) and validates the body.
fn parse_body(input: &str, expected: &'static str) -> Result<String, IdError> {
    if input.is_empty() {
        return Err(IdError::Empty);
    }
    let body = match input.split_once('_') {
        Some((prefix, body)) if KNOWN_PREFIXES.contains(&prefix) => {
            if prefix != expected {
                return Err(IdError::WrongPrefix {
                    found: prefix.to_owned(),
                    expected,
                });
            }
            body
        }
        _ => input,
    };
    if !body.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(IdError::NotAlphanumeric);
    }
    if !ACCEPTED_BODY_LENGTHS.contains(&body.len()) {
        return Err(IdError::BadLength {
            found: body.len(),
            expected_lengths: "21, 25, 26 or 27",
        });
    }
    Ok(body.to_owned())
}

macro_rules! record_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        ///
        /// Serializes as its internal id (the body).
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// Parses a friendly or bare id from a request.
            pub fn parse(input: &str) -> Result<Self, IdError> {
                parse_body(input, $prefix).map(Self)
            }

            /// Wraps a body read from a store, which is trusted as it is.
            pub fn from_stored(body: impl Into<String>) -> Self {
                Self(body.into())
            }

            /// The internal id (the body).
            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn friendly(&self) -> String {
                format!(concat!($prefix, "_{}"), self.0)
            }

            pub fn residency(&self) -> Residency {
                residency_of(&self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "_{}"), self.0)
            }
        }
    };
}

record_id!(
    /// A task run id (`run_…`).
    RunId,
    "run"
);
record_id!(
    /// A batch id (`batch_…`).
    BatchId,
    "batch"
);
record_id!(
    /// A waitpoint id (`waitpoint_…`); always a cuid, in either store.
    WaitpointId,
    "waitpoint"
);

/// The caller's environment, as the webapp authenticated it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EnvironmentId(String);

impl EnvironmentId {
    const MAX_LENGTH: usize = 64;

    pub fn parse(input: &str) -> Result<Self, IdError> {
        if input.is_empty() {
            return Err(IdError::Empty);
        }
        if !input
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(IdError::NotAlphanumeric);
        }
        if input.len() > Self::MAX_LENGTH {
            return Err(IdError::BadLength {
                found: input.len(),
                expected_lengths: "at most 64",
            });
        }
        Ok(Self(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EnvironmentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Mints a run-ops body: the 6-byte big-endian unix-ms timestamp and 9 random bytes in lowercase
/// base32hex (24 chars, sorting by time), then the region (or shard) char and the scheme version.
pub fn mint_runops_body(unix_ms: u64, random: [u8; 9], region: char, version: char) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789abcdefghijklmnopqrstuv";
    let mut raw = [0u8; 15];
    raw[..6].copy_from_slice(&unix_ms.to_be_bytes()[2..]);
    raw[6..].copy_from_slice(&random);
    let value = raw.iter().fold(0u128, |acc, b| (acc << 8) | u128::from(*b));
    let mut body: String = (0..RUNOPS_CORE_LENGTH)
        .rev()
        .map(|i| char::from(ALPHABET[((value >> (i * 5)) & 31) as usize]))
        .collect();
    body.push(region);
    body.push(version);
    body
}

/// Mints a cuid-shaped legacy body: `c` and 24 lowercase alphanumerics, timestamp first.
pub fn mint_cuid_body(unix_ms: u64, random: [u8; 16]) -> String {
    const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut body = String::with_capacity(25);
    body.push('c');
    let mut time = unix_ms;
    let mut time_chars = [b'0'; 8];
    for slot in time_chars.iter_mut().rev() {
        *slot = ALPHABET[(time % 36) as usize];
        time /= 36;
    }
    body.extend(time_chars.iter().map(|b| char::from(*b)));
    body.extend(
        random
            .iter()
            .map(|b| char::from(ALPHABET[usize::from(*b) % 36])),
    );
    body
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const RUNOPS: &str = "0123456789abcdefghijklmnab1";
    const CUID: &str = "clxyz0123456789abcdefghij";

    #[test]
    fn friendly_and_bare_ids_parse_to_the_same_body() {
        let body = &RUNOPS[..26];
        assert_eq!(
            RunId::parse(&format!("run_{body}")),
            RunId::parse(body),
            "prefix is optional"
        );
        assert_eq!(
            RunId::parse(body).map(|id| id.friendly()),
            Ok(format!("run_{body}"))
        );
    }

    #[test]
    fn runops_bodies_live_in_new_and_everything_else_in_legacy() {
        let runops_v1 = mint_runops_body(1_750_000_000_000, [7; 9], 'e', '1');
        let runops_v2 = mint_runops_body(1_750_000_000_000, [7; 9], '3', '2');
        assert_eq!(residency_of(&runops_v1), Residency::New);
        assert_eq!(residency_of(&runops_v2), Residency::New);
        assert_eq!(residency_of(CUID), Residency::Legacy);
        // Version 3 does not exist; uppercase and `w`+ are outside base32hex.
        assert_eq!(
            residency_of(&format!("{}3", &runops_v1[..25])),
            Residency::Legacy
        );
        assert_eq!(residency_of(&runops_v1.to_uppercase()), Residency::Legacy);
        assert_eq!(
            residency_of(&format!("w{}", &runops_v1[1..])),
            Residency::Legacy
        );
        assert_eq!(residency_of(""), Residency::Legacy);
    }

    #[test]
    fn malformed_ids_are_refused_with_the_reason() {
        assert_eq!(RunId::parse(""), Err(IdError::Empty));
        assert!(matches!(
            RunId::parse("batch_clxyz0123456789abcdefghij"),
            Err(IdError::WrongPrefix { .. })
        ));
        assert!(matches!(
            RunId::parse("run_abc"),
            Err(IdError::BadLength { found: 3, .. })
        ));
        assert_eq!(
            RunId::parse("run_clxyz0123456789abcdef-hij"),
            Err(IdError::NotAlphanumeric)
        );
        // Only one prefix is stripped.
        assert!(RunId::parse("run_run_clxyz0123456789abcdefghij").is_err());
    }

    #[test]
    fn runops_ids_sort_by_time() {
        let earlier = mint_runops_body(1_700_000_000_000, [255; 9], 'a', '1');
        let later = mint_runops_body(1_700_000_000_001, [0; 9], 'a', '1');
        assert!(earlier < later);
    }

    #[test]
    fn minted_cuids_are_valid_legacy_ids() {
        let body = mint_cuid_body(1_700_000_000_000, [200; 16]);
        assert_eq!(body.len(), 25);
        assert_eq!(
            RunId::parse(&body).map(|id| id.residency()),
            Ok(Residency::Legacy)
        );
    }

    proptest! {
        #[test]
        fn residency_is_total_and_parse_never_panics(input in ".{0,40}") {
            let _ = residency_of(&input);
            let _ = RunId::parse(&input);
            let _ = EnvironmentId::parse(&input);
        }

        #[test]
        fn minted_runops_ids_round_trip_to_new(ms in 0u64..(1 << 48), random in any::<[u8; 9]>(),
                                               region in "[a-z0-9]", version in "[12]") {
            let region = region.chars().next().unwrap_or('a');
            let version = version.chars().next().unwrap_or('1');
            let body = mint_runops_body(ms, random, region, version);
            let id = RunId::parse(&format!("run_{body}")).expect("minted ids are valid");
            prop_assert_eq!(id.residency(), Residency::New);
            prop_assert_eq!(id.as_str(), body.as_str());
        }

        #[test]
        fn any_alphanumeric_body_of_accepted_length_parses(body in "[a-zA-Z0-9]{25}") {
            prop_assert!(RunId::parse(&body).is_ok());
            let friendly = format!("waitpoint_{}", body);
            prop_assert!(WaitpointId::parse(&friendly).is_ok());
        }
    }
}
