//! Building the topology at boot, and the checks that refuse a split that is not one.

use runview_core::ids::Residency;
use runview_pg::{DatabaseFingerprint, PoolSettings, fingerprint, lazy_pool, map_error};
use secrecy::SecretString;

use crate::store::PgRunStore;
use crate::topology::RunOpsTopology;

/// Where the run-ops stores are and how to pool connections to them.
#[derive(Clone, Debug)]
pub struct TopologySettings {
    pub legacy_url: SecretString,
    pub new_url: Option<SecretString>,
    pub split: bool,
    pub pool: PoolSettings,
}

/// Why the run-ops stores cannot be served. Messages name stores and databases, never URLs, so
/// they are safe to log.
#[derive(Debug, thiserror::Error)]
pub enum BootError {
    #[error("the {} run-ops database URL is not a valid PostgreSQL URL", store.as_str())]
    InvalidUrl { store: Residency },
    /// Fail closed: without both fingerprints a split onto one database cannot be ruled out.
    #[error("could not identify the {} run-ops database: {error}", store.as_str())]
    Probe {
        store: Residency,
        error: runview_core::Error,
    },
    #[error(
        "split mode needs two run-ops databases, but the LEGACY and NEW URLs both reach database \
         `{database}` of PostgreSQL system {system_identifier}; point NEW at the dedicated \
         run-ops database or turn split mode off"
    )]
    SameDatabase {
        database: String,
        system_identifier: i64,
    },
}

impl RunOpsTopology {
    /// Passthrough over the LEGACY URL when split mode is off or there is no NEW URL; otherwise
    /// both stores, once their fingerprints prove they are distinct databases. Passthrough pools
    /// connect on first use, so a database that is down at boot shows in readiness instead.
    pub async fn connect(settings: &TopologySettings) -> Result<Self, BootError> {
        let legacy = open_store(&settings.legacy_url, Residency::Legacy, &settings.pool)?;
        let new_url = match &settings.new_url {
            Some(url) if settings.split => url,
            _ => return Ok(Self::Passthrough(legacy)),
        };
        let new = open_store(new_url, Residency::New, &settings.pool)?;
        let (legacy_fingerprint, new_fingerprint) = futures::join!(probe(&legacy), probe(&new));
        let legacy_fingerprint = legacy_fingerprint?;
        if legacy_fingerprint == new_fingerprint? {
            // Host spellings, ports and proxies differ; the fingerprint does not.
            return Err(BootError::SameDatabase {
                database: legacy_fingerprint.database,
                system_identifier: legacy_fingerprint.system_identifier,
            });
        }
        Ok(Self::Split { legacy, new })
    }
}

fn open_store(
    url: &SecretString,
    store: Residency,
    settings: &PoolSettings,
) -> Result<PgRunStore, BootError> {
    let pool = lazy_pool(url, settings).map_err(|_| BootError::InvalidUrl { store })?;
    Ok(PgRunStore::new(pool, store))
}

async fn probe(store: &PgRunStore) -> Result<DatabaseFingerprint, BootError> {
    fingerprint(store.pool())
        .await
        .map_err(|error| BootError::Probe {
            store: store.residency(),
            error: map_error(store.dependency(), error),
        })
}
