//! Building the topology at boot, and the checks that refuse a split that is not one.

use runview_core::ids::Residency;
use runview_pg::{
    DatabaseFingerprint, PoolSettings, SchemaCheckError, check_schema, fingerprint, lazy_pool,
    map_error,
};
use secrecy::SecretString;

use crate::coalesce::Coalescing;
use crate::schema::{RECOMMENDED_INDEXES, column_needs};
use crate::store::{PgRunStore, role};
use crate::topology::RunOpsTopology;

/// Where the run-ops stores are and how to pool connections to them.
#[derive(Clone, Debug)]
pub struct TopologySettings {
    pub legacy_url: SecretString,
    pub new_url: Option<SecretString>,
    /// The primaries behind the replicas, asked when a lookup misses on every replica.
    pub legacy_primary_url: Option<SecretString>,
    pub new_primary_url: Option<SecretString>,
    pub split: bool,
    pub pool: PoolSettings,
    /// How every store answers concurrent lookups by id.
    pub coalescing: Coalescing,
}

/// Why the run-ops stores cannot be served. Messages name stores and databases, never URLs, so
/// they are safe to log.
#[derive(Debug, thiserror::Error)]
pub enum BootError {
    #[error("the {role} database URL is not a valid PostgreSQL URL")]
    InvalidUrl { role: &'static str },
    /// A database that lacks a column runview reads, or whose schema could not be read.
    #[error(transparent)]
    Schema(#[from] SchemaCheckError),
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
    /// both stores, once their fingerprints prove they are distinct databases. Every database is
    /// checked for the columns runview reads before anything is served.
    pub async fn connect(settings: &TopologySettings) -> Result<Self, BootError> {
        let legacy = open_store(&settings.legacy_url, Residency::Legacy, false, settings)?;
        let split_new = settings.new_url.as_ref().filter(|_| settings.split);
        let topology = match split_new {
            None => Self::passthrough(legacy),
            Some(new_url) => {
                let new = open_store(new_url, Residency::New, false, settings)?;
                refuse_one_database(&legacy, &new).await?;
                Self::split(legacy, new)
            }
        };
        let primary = |url: &Option<SecretString>, residency| {
            url.as_ref()
                .map(|url| open_store(url, residency, true, settings))
                .transpose()
        };
        let legacy_primary = primary(&settings.legacy_primary_url, Residency::Legacy)?;
        // Without a NEW store there is nothing for its primary to back.
        let new_primary = match topology.is_split() {
            true => primary(&settings.new_primary_url, Residency::New)?,
            false => None,
        };
        let topology = topology.with_primaries(legacy_primary, new_primary);
        let checks = topology
            .stores()
            .into_iter()
            .chain(topology.primaries())
            .map(check_store_schema);
        futures::future::try_join_all(checks).await?;
        Ok(topology)
    }
}

/// Fail closed: without both fingerprints a split onto one database cannot be ruled out.
async fn refuse_one_database(legacy: &PgRunStore, new: &PgRunStore) -> Result<(), BootError> {
    let (legacy_fingerprint, new_fingerprint) = futures::join!(probe(legacy), probe(new));
    let legacy_fingerprint = legacy_fingerprint?;
    if legacy_fingerprint == new_fingerprint? {
        // Host spellings, ports and proxies differ; the fingerprint does not.
        return Err(BootError::SameDatabase {
            database: legacy_fingerprint.database,
            system_identifier: legacy_fingerprint.system_identifier,
        });
    }
    Ok(())
}

async fn check_store_schema(store: &PgRunStore) -> Result<(), BootError> {
    let needs = column_needs(store.residency());
    check_schema(store.pool(), store.role(), &needs, RECOMMENDED_INDEXES).await?;
    Ok(())
}

fn open_store(
    url: &SecretString,
    residency: Residency,
    primary: bool,
    settings: &TopologySettings,
) -> Result<PgRunStore, BootError> {
    let invalid = |_| BootError::InvalidUrl {
        role: role(residency, primary),
    };
    let pool = lazy_pool(url, &settings.pool).map_err(invalid)?;
    let store = match primary {
        false => PgRunStore::new(pool, residency),
        true => PgRunStore::primary(pool, residency),
    };
    Ok(store.with_coalescing(settings.coalescing))
}

async fn probe(store: &PgRunStore) -> Result<DatabaseFingerprint, BootError> {
    fingerprint(store.pool())
        .await
        .map_err(|error| BootError::Probe {
            store: store.residency(),
            error: map_error(store.dependency(), error),
        })
}
