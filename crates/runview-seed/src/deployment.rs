//! The one way to fill a deployment's databases: connect to each distinct URL once, apply the
//! reference schema each database needs, and seed. The embedded default, `runview seed`, the
//! benchmark and the tests all come through here.

use std::sync::atomic::AtomicU64;

use runview_localdb::Schema;
use sqlx::PgPool;

use crate::{SeedPlan, SeedReport, SeedTargets, seed_with_progress};

/// Where a deployment's databases are. A URL named twice is one database: the control plane and
/// LEGACY share one in production, and all three do in passthrough.
#[derive(Clone, Copy, Debug)]
pub struct DeploymentUrls<'a> {
    pub control_plane: &'a str,
    pub legacy: &'a str,
    pub new: &'a str,
}

/// Why a deployment could not be seeded. Databases are named by role, never by URL: URLs may
/// carry passwords.
#[derive(Debug, thiserror::Error)]
pub enum DeploymentError {
    #[error("cannot connect to the {role} database: {source}")]
    Connect {
        role: &'static str,
        source: sqlx::Error,
    },
    #[error("cannot create the reference schema of the {role} database: {source}")]
    Schema {
        role: &'static str,
        source: sqlx::Error,
    },
    #[error("seeding failed: {0}")]
    Seed(#[source] sqlx::Error),
}

/// The databases of a deployment, one pool per distinct URL.
pub struct Deployment {
    /// (URL, role, pool) of each distinct database, in the order control plane, LEGACY, NEW.
    databases: Vec<(String, &'static str, PgPool)>,
    control_plane: usize,
    legacy: usize,
    new: usize,
}

impl Deployment {
    pub async fn connect(urls: DeploymentUrls<'_>) -> Result<Self, DeploymentError> {
        let mut databases: Vec<(String, &'static str, PgPool)> = Vec::new();
        let mut index_of = async |url: &str, role: &'static str| {
            if let Some(found) = databases.iter().position(|(known, ..)| known == url) {
                return Ok(found);
            }
            let pool = PgPool::connect(url)
                .await
                .map_err(|source| DeploymentError::Connect { role, source })?;
            databases.push((url.to_owned(), role, pool));
            Ok(databases.len() - 1)
        };
        let control_plane = index_of(urls.control_plane, "control-plane").await?;
        let legacy = index_of(urls.legacy, "LEGACY").await?;
        let new = index_of(urls.new, "NEW").await?;
        Ok(Self {
            databases,
            control_plane,
            legacy,
            new,
        })
    }

    /// Applies the upstream's full schema to the control plane and LEGACY (one database in
    /// production and in passthrough) and NEW's run-ops schema to a NEW database of its own. The
    /// databases must be empty.
    pub async fn create_schemas(&self) -> Result<(), DeploymentError> {
        for (index, (_, role, pool)) in self.databases.iter().enumerate() {
            let schema = if index == self.new && index != self.legacy {
                Schema::RunOps
            } else {
                Schema::Full
            };
            runview_localdb::apply_schema(pool, schema)
                .await
                .map_err(|source| DeploymentError::Schema { role, source })?;
        }
        Ok(())
    }

    /// Seeds `plan`, adding the runs of each loaded chunk to `runs_written`.
    pub async fn seed(
        &self,
        plan: &SeedPlan,
        runs_written: &AtomicU64,
    ) -> Result<SeedReport, DeploymentError> {
        let pool = |index: usize| &self.databases[index].2;
        let targets = SeedTargets {
            control_plane: pool(self.control_plane),
            legacy: pool(self.legacy),
            new: pool(self.new),
        };
        seed_with_progress(targets, plan, runs_written)
            .await
            .map_err(DeploymentError::Seed)
    }

    pub async fn close(self) {
        for (_, _, pool) in self.databases {
            pool.close().await;
        }
    }
}

/// Creates the reference schemas in the empty databases at `urls` and seeds `plan` there.
pub async fn create_and_seed(
    urls: DeploymentUrls<'_>,
    plan: &SeedPlan,
) -> Result<SeedReport, DeploymentError> {
    let deployment = Deployment::connect(urls).await?;
    deployment.create_schemas().await?;
    let report = deployment.seed(plan, &AtomicU64::new(0)).await;
    deployment.close().await;
    report
}
