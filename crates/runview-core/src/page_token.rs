//! Opaque page tokens: the keyset position, the direction and the resolved time window, with an
//! expiry, encrypted and authenticated with XChaCha20-Poly1305 so a caller can neither read,
//! forge nor alter one. A token is bound to the environment and to a digest of every filter by
//! passing them as associated data: they are not in the token, yet a token opens only for the
//! scope it was issued for. Several secrets are accepted so they can be rotated: one key is
//! derived from each, the first encrypts and every one is tried to open. The secrets can be
//! replaced while the signer serves ([`PageTokenSigner::rotate`]), so rotating needs no restart.

use std::sync::{Arc, PoisonError, RwLock};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::{DateTime, TimeDelta, Utc};
use hkdf::Hkdf;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, FieldViolation, InvalidReason, Result};
use crate::page::{Cursor, Direction, Keyset, TimeWindow};

/// Separates page-token keys from anything else ever derived from the same secrets.
const KEY_INFO: &[u8] = b"runview page token v1";

/// A random 192-bit nonce per token: long enough that random nonces never repeat in practice.
const NONCE_LENGTH: usize = 24;

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

    /// The associated data: length-prefixed so no two scopes share one.
    fn associated_data(&self) -> Vec<u8> {
        let mut data =
            Vec::with_capacity(16 + self.environment_id.len() + self.filter_digest.len());
        for part in [&self.environment_id, &self.filter_digest] {
            data.extend_from_slice(&(part.len() as u64).to_be_bytes());
            data.extend_from_slice(part.as_bytes());
        }
        data
    }
}

/// An opened token: where the next page starts and the window the first page resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PagePosition {
    pub cursor: Cursor,
    pub window: TimeWindow,
}

/// The encrypted content; the scope is not in it, only bound as associated data.
#[derive(Serialize, Deserialize)]
struct Claims {
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

/// The keys of the current secrets, never empty: the first encrypts.
type Keys = Arc<[XChaCha20Poly1305]>;

pub struct PageTokenSigner {
    /// Replaced whole by a rotation; a call works with the keys it started with.
    keys: RwLock<Keys>,
    ttl: TimeDelta,
}

impl PageTokenSigner {
    /// The first of `secrets` encrypts, all open. With none, a random key of this process
    /// encrypts, so tokens still work but do not survive a restart.
    pub fn new(secrets: Vec<SecretString>, ttl: TimeDelta) -> Self {
        let keys = derive_keys(&secrets).unwrap_or_else(|| {
            Arc::new([XChaCha20Poly1305::new(&XChaCha20Poly1305::generate_key(
                &mut OsRng,
            ))])
        });
        Self {
            keys: RwLock::new(keys),
            ttl,
        }
    }

    /// From now on the first of `secrets` encrypts and all of them open; tokens of a secret no
    /// longer among them stop opening. No secrets at all leaves the current ones: there would be
    /// nothing to encrypt with.
    pub fn rotate(&self, secrets: &[SecretString]) {
        if let Some(keys) = derive_keys(secrets) {
            *self.keys.write().unwrap_or_else(PoisonError::into_inner) = keys;
        }
    }

    fn keys(&self) -> Keys {
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn sign(&self, scope: &TokenScope, position: &PagePosition, now: DateTime<Utc>) -> String {
        let claims = Claims {
            created_at_ms: position.cursor.keyset.created_at.timestamp_millis(),
            id: position.cursor.keyset.id.clone(),
            backward: position.cursor.direction == Direction::Backward,
            window_start_ms: position.window.start.map(|start| start.timestamp_millis()),
            window_end_ms: position.window.end.timestamp_millis(),
            expires_at: (now + self.ttl).timestamp(),
        };
        let plaintext = serde_json::to_vec(&claims).unwrap_or_default();
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let payload = Payload {
            msg: &plaintext,
            aad: &scope.associated_data(),
        };
        // Encryption fails only for messages of gigabytes; the keys are never empty.
        let ciphertext = self.keys()[0]
            .encrypt(&nonce, payload)
            .unwrap_or_else(|_| unreachable!());
        let mut token = nonce.to_vec();
        token.extend_from_slice(&ciphertext);
        URL_SAFE_NO_PAD.encode(token)
    }

    pub fn verify(
        &self,
        token: &str,
        scope: &TokenScope,
        now: DateTime<Utc>,
    ) -> Result<PagePosition> {
        let bytes = URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| invalid("is malformed"))?;
        if bytes.len() <= NONCE_LENGTH {
            return Err(invalid("is malformed"));
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LENGTH);
        let associated_data = scope.associated_data();
        // The associated data makes a token of another environment or other filters fail to open
        // exactly like an altered one: which of them it was cannot be told, and need not be.
        let plaintext = self
            .keys()
            .iter()
            .find_map(|key| {
                let payload = Payload {
                    msg: ciphertext,
                    aad: &associated_data,
                };
                key.decrypt(XNonce::from_slice(nonce), payload).ok()
            })
            .ok_or_else(|| {
                invalid(
                    "was not issued by this service, was altered, or was issued for another \
                     environment or different filters",
                )
            })?;
        let claims: Claims =
            serde_json::from_slice(&plaintext).map_err(|_| invalid("is malformed"))?;
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

/// A key per secret; `None` for no secret.
fn derive_keys(secrets: &[SecretString]) -> Option<Keys> {
    (!secrets.is_empty()).then(|| secrets.iter().map(derive_key).collect())
}

/// One 256-bit key per secret, by HKDF-SHA256, so a secret of any length or form gives a key.
fn derive_key(secret: &SecretString) -> XChaCha20Poly1305 {
    let mut key = chacha20poly1305::Key::default();
    // 32 bytes is far below HKDF-SHA256's limit of 8160, so expansion cannot fail.
    Hkdf::<Sha256>::new(None, secret.expose_secret().as_bytes())
        .expand(KEY_INFO, &mut key)
        .unwrap_or_else(|_| unreachable!());
    XChaCha20Poly1305::new(&key)
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

    const RUN_ID: &str = "run_cm4abcdefghijklmnopqrstu";

    const NOT_OPENED: &str = "was not issued by this service, was altered, or was issued for \
                              another environment or different filters";

    fn position() -> PagePosition {
        PagePosition {
            cursor: Cursor {
                keyset: Keyset {
                    created_at: now() - TimeDelta::hours(1),
                    id: RUN_ID.into(),
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
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "URL-safe"
        );
        assert_eq!(
            signer.verify(&token, &scope("env", &["a"]), now()),
            Ok(position())
        );
    }

    #[test]
    fn a_token_reveals_neither_the_environment_nor_the_run() {
        let environment = "cm4environment0000000000001";
        let signer = signer(&["s1"]);
        let token = signer.sign(&scope(environment, &["a"]), &position(), now());
        let bytes = URL_SAFE_NO_PAD.decode(&token).unwrap_or_default();
        let contains = |needle: &str| {
            bytes
                .windows(needle.len())
                .any(|window| window == needle.as_bytes())
        };
        assert!(!bytes.is_empty());
        assert!(!contains(environment), "no environment id in {token}");
        assert!(!contains(RUN_ID), "no run id in {token}");
        assert!(!token.contains(environment) && !token.contains(RUN_ID));
        // 206 characters for this position: the signed tokens that carried the scope were 273.
        assert!(token.len() <= 210, "{} characters", token.len());
    }

    #[test]
    fn each_token_has_its_own_nonce() {
        let signer = signer(&["s1"]);
        let first = signer.sign(&scope("env", &[]), &position(), now());
        let second = signer.sign(&scope("env", &[]), &position(), now());
        assert_ne!(first, second);
        assert_eq!(
            signer.verify(&first, &scope("env", &[]), now()),
            signer.verify(&second, &scope("env", &[]), now())
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
    fn a_live_rotation_swaps_the_keys_of_a_serving_signer() {
        let live = signer(&["old"]);
        let before = live.sign(&scope("env", &[]), &position(), now());
        live.rotate(&["new".into(), "old".into()]);
        assert!(live.verify(&before, &scope("env", &[]), now()).is_ok());
        let after = live.sign(&scope("env", &[]), &position(), now());
        assert!(
            signer(&["new"])
                .verify(&after, &scope("env", &[]), now())
                .is_ok(),
            "the first secret signs"
        );
        live.rotate(&[]);
        assert!(
            live.verify(&after, &scope("env", &[]), now()).is_ok(),
            "no secrets keep the current ones"
        );
        live.rotate(&["new".into()]);
        assert!(live.verify(&before, &scope("env", &[]), now()).is_err());
    }

    #[test]
    fn without_secrets_a_random_key_still_round_trips() {
        let signer = signer(&[]);
        let token = signer.sign(&scope("env", &[]), &position(), now());
        assert_eq!(
            signer.verify(&token, &scope("env", &[]), now()),
            Ok(position())
        );
    }

    #[test]
    fn foreign_environments_other_filters_and_expired_tokens_are_refused() {
        let signer = signer(&["s1"]);
        let token = signer.sign(&scope("env", &["a"]), &position(), now());
        for other in [scope("other", &["a"]), scope("env", &["b"])] {
            assert_eq!(
                reason_of(signer.verify(&token, &other, now())),
                NOT_OPENED,
                "{other:?}"
            );
        }
        assert_eq!(
            reason_of(signer.verify(&token, &scope("env", &["a"]), now() + TimeDelta::days(4))),
            "has expired"
        );
    }

    #[test]
    fn an_altered_token_is_refused() {
        let signer = signer(&["s1"]);
        let token = signer.sign(&scope("env", &[]), &position(), now());
        let bytes = URL_SAFE_NO_PAD.decode(&token).unwrap_or_default();
        for at in [0, NONCE_LENGTH, bytes.len() - 1] {
            let mut altered = bytes.clone();
            altered[at] ^= 1;
            assert_eq!(
                reason_of(signer.verify(
                    &URL_SAFE_NO_PAD.encode(&altered),
                    &scope("env", &[]),
                    now()
                )),
                NOT_OPENED,
                "byte {at}"
            );
        }
        assert_eq!(
            reason_of(signer.verify(
                &URL_SAFE_NO_PAD.encode(&bytes[..NONCE_LENGTH]),
                &scope("env", &[]),
                now()
            )),
            "is malformed"
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
