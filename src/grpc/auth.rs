//! Bearer-token authentication between the webapp and runview. Several tokens may be valid at
//! once, and the set can be replaced while serving, so they can be rotated without downtime or a
//! restart. Tokens are compared as SHA-256 digests in constant time, so neither their content nor
//! their length leaks through timing.

use std::sync::{Arc, PoisonError, RwLock};

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tonic::{Request, Status};

use super::status::unauthenticated;

/// The digests of the valid tokens, never empty.
type Digests = Arc<[[u8; 32]]>;

/// Clones share the tokens: a replacement reaches every connection's interceptor at once.
#[derive(Clone)]
pub struct BearerAuth {
    digests: Arc<RwLock<Digests>>,
}

impl BearerAuth {
    /// `None` when no token is configured: authentication is off.
    pub fn new(tokens: &[SecretString]) -> Option<Self> {
        digests(tokens).map(|digests| Self {
            digests: Arc::new(RwLock::new(digests)),
        })
    }

    /// Makes `tokens` the valid ones, for every call checked from now on. No token at all leaves
    /// the current ones: authentication cannot be turned off by emptying the list.
    pub fn replace(&self, tokens: &[SecretString]) {
        if let Some(digests) = digests(tokens) {
            *self.digests.write().unwrap_or_else(PoisonError::into_inner) = digests;
        }
    }

    pub fn check(&self, request: Request<()>) -> Result<Request<()>, Status> {
        let presented = request
            .metadata()
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .and_then(bearer_token)
            .ok_or_else(|| unauthenticated("a bearer token is required"))?;
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let known = self
            .digests
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let accepted = known.iter().fold(subtle::Choice::from(0), |found, known| {
            found | known.ct_eq(&digest)
        });
        if bool::from(accepted) {
            Ok(request)
        } else {
            Err(unauthenticated("the bearer token is not valid"))
        }
    }

    /// Checks a request, counting refusals: they never reach an adapter, where requests are
    /// counted.
    pub fn admit(&self, request: Request<()>) -> Result<Request<()>, Status> {
        self.check(request).inspect_err(|_| {
            metrics::counter!("runview_auth_failures_total").increment(1);
        })
    }
}

fn digests(tokens: &[SecretString]) -> Option<Digests> {
    (!tokens.is_empty()).then(|| {
        tokens
            .iter()
            .map(|token| Sha256::digest(token.expose_secret().as_bytes()).into())
            .collect()
    })
}

/// The token of an `Authorization: Bearer <token>` value (RFC 6750): the scheme in any case,
/// one space, and a token without whitespace. Anything else is no bearer credential at all.
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    let well_formed = scheme.eq_ignore_ascii_case("bearer")
        && !token.is_empty()
        && !token.chars().any(char::is_whitespace);
    well_formed.then_some(token)
}

#[cfg(test)]
mod tests {
    use tonic::Code;

    use super::*;

    fn request(authorization: Option<&str>) -> Request<()> {
        let mut request = Request::new(());
        if let Some(value) = authorization {
            request
                .metadata_mut()
                .insert("authorization", value.parse().expect("ascii"));
        }
        request
    }

    #[test]
    fn every_configured_token_is_accepted() {
        let auth = BearerAuth::new(&["old".into(), "new".into()]).expect("tokens configured");
        assert!(auth.check(request(Some("Bearer old"))).is_ok());
        assert!(auth.check(request(Some("Bearer new"))).is_ok());
    }

    #[test]
    fn missing_malformed_and_wrong_tokens_are_unauthenticated() {
        let auth = BearerAuth::new(&["secret".into()]).expect("tokens configured");
        for authorization in [
            None,
            Some("secret"),
            Some("Basic secret"),
            Some("Bearer secre"),
            Some("Bearer "),
            Some("Bearer  secret"),
            Some("Bearer secret "),
            Some(" Bearer secret"),
            Some("Bearersecret"),
        ] {
            let status = auth.check(request(authorization)).expect_err("refused");
            assert_eq!(status.code(), Code::Unauthenticated);
            assert!(
                !status.message().contains("secret"),
                "the token never echoes back"
            );
        }
    }

    #[test]
    fn the_scheme_is_case_insensitive() {
        let auth = BearerAuth::new(&["secret".into()]).expect("tokens configured");
        for scheme in ["Bearer", "bearer", "BEARER"] {
            let value = format!("{scheme} secret");
            assert!(auth.check(request(Some(&value))).is_ok(), "{scheme}");
        }
    }

    #[test]
    fn a_replacement_reaches_every_clone_and_no_token_keeps_the_current_ones() {
        let auth = BearerAuth::new(&["old".into()]).expect("tokens configured");
        let serving = auth.clone();
        auth.replace(&["new".into()]);
        assert!(serving.check(request(Some("Bearer new"))).is_ok());
        assert!(serving.check(request(Some("Bearer old"))).is_err());
        auth.replace(&[]);
        assert!(serving.check(request(Some("Bearer new"))).is_ok());
    }

    #[test]
    fn no_tokens_means_authentication_is_off() {
        assert!(BearerAuth::new(&[]).is_none());
    }
}
