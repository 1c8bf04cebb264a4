//! The secrets calls are checked with: bearer tokens and page-token secrets, from the
//! configuration and from files that are read again while the server serves, so that rotating
//! them needs no restart. A change replaces the whole set at once; calls in flight and open
//! connections are untouched.

mod file;

use std::sync::Arc;
use std::time::Duration;

use runview_core::page_token::PageTokenSigner;
use secrecy::SecretString;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use self::file::{Secret, SecretFile};
use crate::config::{PageTokens, ValidatedConfig};
use crate::grpc::BearerAuth;

pub struct Secrets {
    /// None: authentication is off.
    pub auth: Option<BearerAuth>,
    pub signer: Arc<PageTokenSigner>,
    /// The files to read again, and what their entries replace.
    pub reloads: Vec<Reload>,
}

/// Puts a secret file's new entries in force.
type Apply = Box<dyn Fn(&[SecretString]) + Send + Sync>;

/// A secret file and what a change of it replaces.
pub struct Reload {
    file: SecretFile,
    apply: Apply,
}

impl Secrets {
    /// Reads the secret files: one that cannot be read or holds no entry stops the start.
    pub fn load(config: &ValidatedConfig) -> anyhow::Result<Self> {
        let mut reloads = Vec::new();
        let inline = config.bearer_tokens.clone();
        let auth = match &config.auth_tokens_file {
            Some(path) => {
                let (file, tokens) = SecretFile::open(Secret::AuthTokens, path)?;
                // The file holds a token, so authentication is on and stays on.
                let auth = BearerAuth::new(&[inline.as_slice(), &tokens].concat());
                if let Some(serving) = auth.clone() {
                    let apply = move |tokens: &[SecretString]| {
                        serving.replace(&[inline.as_slice(), tokens].concat());
                    };
                    reloads.push(Reload {
                        file,
                        apply: Box::new(apply),
                    });
                }
                auth
            }
            None => BearerAuth::new(&inline),
        };
        if auth.is_none() {
            tracing::warn!(
                "no auth_tokens configured: the read and cache services accept unauthenticated calls"
            );
        }
        let signer = match &config.page_token_secrets_file {
            Some(path) => {
                let (file, secrets) = SecretFile::open(Secret::PageTokenSecrets, path)?;
                let signer = Arc::new(PageTokenSigner::new(secrets, config.page_tokens.ttl));
                let serving = signer.clone();
                reloads.push(Reload {
                    file,
                    apply: Box::new(move |secrets| serving.rotate(secrets)),
                });
                signer
            }
            None => Arc::new(page_token_signer(&config.page_tokens)),
        };
        Ok(Self {
            auth,
            signer,
            reloads,
        })
    }
}

/// Reads the files of `reloads` again every `interval` until `shutdown`, putting the entries of
/// a changed one in force.
pub fn watch(
    mut reloads: Vec<Reload>,
    interval: Duration,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        if reloads.is_empty() {
            return;
        }
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        // The first tick is immediate, and the files were just read.
        ticks.tick().await;
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                () = shutdown.cancelled() => return,
            }
            for reload in &mut reloads {
                if let Some(entries) = reload.file.reread().await {
                    (reload.apply)(&entries);
                }
            }
        }
    })
}

/// The configured secrets, else a random one for this process only.
fn page_token_signer(page_tokens: &PageTokens) -> PageTokenSigner {
    if !page_tokens.secrets.is_empty() {
        return PageTokenSigner::new(page_tokens.secrets.clone(), page_tokens.ttl);
    }
    tracing::warn!(
        "page_token_secrets is not set: page tokens are encrypted with a random secret of this process \
         and will not work across restarts or replicas"
    );
    PageTokenSigner::new(Vec::new(), page_tokens.ttl)
}
