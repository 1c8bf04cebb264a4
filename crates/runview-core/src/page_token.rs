//! Opaque page tokens: the keyset position, the direction and the resolved time window, bound to
//! the environment and to a digest of every filter, with an expiry, signed with HMAC-SHA256 so a
//! caller can neither forge nor alter one. Several secrets are accepted so they can be rotated;
//! the first one signs.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, FieldViolation, InvalidReason, Result};
use crate::page::{Cursor, Direction, Keyset, TimeWindow};

type HmacSha256 = Hmac<Sha256>;

/// Bytes of the HMAC kept in a token: 128 bits is ample against forgery and keeps tokens short.
const TAG_LENGTH: usize = 16;

/// What a token is bound to: the caller's environment and a digest of the request's filters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenScope {
    pub environment_id: String,
    pub filter_digest: String,
}

impl TokenScope {
    /// Binds to `filters`, serialized canonically (struct fields in declaration order, lists as
    /// the caller sent them); page size must not be part of it, so it may change between pages.
    pub fn new(environment_id: &str, filters: &impl Serialize) -> Self {
        let canonical = serde_json::to_vec(filters).unwrap_or_default();
        let digest = Sha256::digest(&canonical);
        Self {
            environment_id: environment_id.to_owned(),
            filter_digest: hex::encode(&digest[..16]),
        }
    }
}

/// A verified token: where the next page starts and the window the first page resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PagePosition {
    pub cursor: Cursor,
    pub window: TimeWindow,
}

#[derive(Serialize, Deserialize)]
struct Claims {
    #[serde(rename = "e")]
    environment_id: String,
    #[serde(rename = "f")]
    filter_digest: String,
    #[serde(rename = "t")]
    created_at_ms: i64,
    #[serde(rename = "i")]
    id: String,
    #[serde(rename = "b")]
    backward: bool,
    #[serde(rename = "s")]
    window_start_ms: Option<i64>,
    #[serde(rename = "n")]
    window_end_ms: i64,
    #[serde(rename = "x")]
    expires_at: i64,
}

pub struct PageTokenSigner {
    secrets: Vec<SecretString>,
    ttl: TimeDelta,
}

impl PageTokenSigner {
    /// `secrets` must not be empty: the first signs, all verify.
    pub fn new(secrets: Vec<SecretString>, ttl: TimeDelta) -> Self {
        Self { secrets, ttl }
    }

    pub fn sign(&self, scope: &TokenScope, position: &PagePosition, now: DateTime<Utc>) -> String {
        let claims = Claims {
            environment_id: scope.environment_id.clone(),
            filter_digest: scope.filter_digest.clone(),
            created_at_ms: position.cursor.keyset.created_at.timestamp_millis(),
            id: position.cursor.keyset.id.clone(),
            backward: position.cursor.direction == Direction::Backward,
            window_start_ms: position.window.start.map(|start| start.timestamp_millis()),
            window_end_ms: position.window.end.timestamp_millis(),
            expires_at: (now + self.ttl).timestamp(),
        };
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap_or_default());
        let tag = self
            .secrets
            .first()
            .map(|secret| tag(secret, &body))
            .unwrap_or_default();
        format!("{body}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    pub fn verify(
        &self,
        token: &str,
        scope: &TokenScope,
        now: DateTime<Utc>,
    ) -> Result<PagePosition> {
        let (body, signature) = token
            .split_once('.')
            .ok_or_else(|| invalid("is malformed"))?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| invalid("is malformed"))?;
        let authentic = self.secrets.iter().any(|secret| {
            let mut mac = keyed(secret);
            mac.update(body.as_bytes());
            mac.verify_truncated_left(&signature).is_ok() && signature.len() == TAG_LENGTH
        });
        if !authentic {
            return Err(invalid("was not issued by this service or was altered"));
        }
        let claims: Claims = URL_SAFE_NO_PAD
            .decode(body)
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok())
            .ok_or_else(|| invalid("is malformed"))?;
        if claims.environment_id != scope.environment_id {
            return Err(invalid("belongs to another environment"));
        }
        if claims.filter_digest != scope.filter_digest {
            return Err(invalid("was issued for different filters"));
        }
        if claims.expires_at < now.timestamp() {
            return Err(invalid("has expired"));
        }
        let at =
            |ms: i64| DateTime::from_timestamp_millis(ms).ok_or_else(|| invalid("is malformed"));
        Ok(PagePosition {
            cursor: Cursor {
                keyset: Keyset {
                    created_at: at(claims.created_at_ms)?,
                    id: claims.id,
                },
                direction: if claims.backward {
                    Direction::Backward
                } else {
                    Direction::Forward
                },
            },
            window: TimeWindow {
                start: claims.window_start_ms.map(at).transpose()?,
                end: at(claims.window_end_ms)?,
            },
        })
    }
}

fn keyed(secret: &SecretString) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    HmacSha256::new_from_slice(secret.expose_secret().as_bytes()).unwrap_or_else(|_| unreachable!())
}

fn tag(secret: &SecretString, body: &str) -> Vec<u8> {
    let mut mac = keyed(secret);
    mac.update(body.as_bytes());
    mac.finalize().into_bytes()[..TAG_LENGTH].to_vec()
}

fn invalid(why: &str) -> Error {
    Error::InvalidArgument {
        reason: InvalidReason::PageToken,
        violations: vec![FieldViolation {
            field: "page_token".to_owned(),
            description: why.to_owned(),
        }],
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use proptest::prelude::*;

    use super::*;

    fn signer(secrets: &[&str]) -> PageTokenSigner {
        PageTokenSigner::new(
            secrets.iter().map(|s| SecretString::from(*s)).collect(),
            TimeDelta::days(3),
        )
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn position() -> PagePosition {
        PagePosition {
            cursor: Cursor {
                keyset: Keyset {
                    created_at: now() - TimeDelta::hours(1),
                    id: "cabc".into(),
                },
                direction: Direction::Backward,
            },
            window: TimeWindow {
                start: Some(now() - TimeDelta::days(7)),
                end: now(),
            },
        }
    }

    fn scope(environment: &str, filters: &[&str]) -> TokenScope {
        TokenScope::new(environment, &filters)
    }

    fn reason_of(result: Result<PagePosition>) -> String {
        match result {
            Err(Error::InvalidArgument {
                reason: InvalidReason::PageToken,
                violations,
            }) => violations[0].description.clone(),
            other => panic!("expected INVALID_PAGE_TOKEN, got {other:?}"),
        }
    }

    #[test]
    fn a_token_round_trips_its_position() {
        let signer = signer(&["s1"]);
        let token = signer.sign(&scope("env", &["a"]), &position(), now());
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'),
            "URL-safe"
        );
        assert_eq!(
            signer.verify(&token, &scope("env", &["a"]), now()),
            Ok(position())
        );
    }

    #[test]
    fn rotated_secrets_still_verify_older_tokens() {
        let token = signer(&["old"]).sign(&scope("env", &[]), &position(), now());
        assert!(
            signer(&["new", "old"])
                .verify(&token, &scope("env", &[]), now())
                .is_ok()
        );
        assert!(
            signer(&["new"])
                .verify(&token, &scope("env", &[]), now())
                .is_err()
        );
    }

    #[test]
    fn foreign_environments_other_filters_and_expired_tokens_are_refused() {
        let signer = signer(&["s1"]);
        let token = signer.sign(&scope("env", &["a"]), &position(), now());
        assert_eq!(
            reason_of(signer.verify(&token, &scope("other", &["a"]), now())),
            "belongs to another environment"
        );
        assert_eq!(
            reason_of(signer.verify(&token, &scope("env", &["b"]), now())),
            "was issued for different filters"
        );
        assert_eq!(
            reason_of(signer.verify(&token, &scope("env", &["a"]), now() + TimeDelta::days(4))),
            "has expired"
        );
    }

    #[test]
    fn an_altered_body_is_refused() {
        let signer = signer(&["s1"]);
        let token = signer.sign(&scope("env", &[]), &position(), now());
        let (body, tag) = token.split_once('.').unwrap_or_default();
        let mut claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).unwrap_or_default())
                .unwrap_or_default();
        claims["e"] = "other".into();
        let forged = format!("{}.{tag}", URL_SAFE_NO_PAD.encode(claims.to_string()));
        assert_eq!(
            reason_of(signer.verify(&forged, &scope("other", &[]), now())),
            "was not issued by this service or was altered"
        );
    }

    proptest! {
        #[test]
        fn garbage_tokens_are_refused_never_panicking(token in ".{0,200}") {
            let signer = signer(&["s1"]);
            prop_assert!(signer.verify(&token, &scope("env", &[]), now()).is_err());
        }
    }
}
