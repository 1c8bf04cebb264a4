//! Bearer-token authentication between the webapp and runview. Several tokens may be valid at
//! once so they can be rotated without downtime. Tokens are compared as SHA-256 digests in
//! constant time, so neither their content nor their length leaks through timing.

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tonic::{Request, Status};

use super::status::unauthenticated;

#[derive(Clone)]
pub struct BearerAuth {
    digests: Vec<[u8; 32]>,
}

impl BearerAuth {
    /// `None` when no token is configured: authentication is off.
    pub fn new(tokens: &[SecretString]) -> Option<Self> {
        let digests: Vec<[u8; 32]> = tokens
            .iter()
            .map(|token| Sha256::digest(token.expose_secret().as_bytes()).into())
            .collect();
        (!digests.is_empty()).then_some(Self { digests })
    }

    pub fn check(&self, request: Request<()>) -> Result<Request<()>, Status> {
        let presented = request
            .metadata()
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or_else(|| unauthenticated("a bearer token is required"))?;
        let digest: [u8; 32] = Sha256::digest(presented.trim().as_bytes()).into();
        let accepted = self
            .digests
            .iter()
            .fold(subtle::Choice::from(0), |found, known| {
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
    fn no_tokens_means_authentication_is_off() {
        assert!(BearerAuth::new(&[]).is_none());
    }
}
