//! Everything the server serves, built from the configuration: the database pools and the
//! run-ops topology (refusing to start on a failed boot check), the cached control-plane resolver,
//! the presenters behind the gRPC adapters, and the secrets (bearer authentication and the
//! page-token signer).

use std::sync::Arc;

use runview_controlplane::{ControlPlaneResolver, ResolverSettings};
use runview_core::presenter::{
    GetBatch, GetRun, GetWaitpoint, ListBatches, ListRuns, ListWaitpoints,
};
use runview_pg::PoolSettings;
use runview_store::{RunOpsTopology, TopologySettings};
use secrecy::SecretString;
use sqlx::PgPool;

use super::secrets::{Reload, Secrets};
use super::{DatabaseUrls, readiness};
use crate::config::ValidatedConfig;
use crate::grpc::{BearerAuth, CacheAdapter, ReadAdapter};
use crate::metrics::SampledPool;

/// The control plane's name in metrics and logs.
const CONTROL_PLANE: &str = "control_plane";

pub struct Services {
    pub read: ReadAdapter,
    pub cache: CacheAdapter,
    /// None: authentication is off.
    pub auth: Option<BearerAuth>,
    pub resolver: Arc<ControlPlaneResolver>,
    /// Where cache invalidations are listened for.
    pub invalidation_url: SecretString,
    /// The databases readiness checks.
    pub readiness: Vec<readiness::Dependency>,
    /// The pools whose use is sampled into metrics.
    pub sampled_pools: Vec<(&'static str, SampledPool)>,
    /// Two run-ops stores rather than one.
    pub split: bool,
    /// The secret files read again while serving.
    pub secret_reloads: Vec<Reload>,
}

impl Services {
    pub async fn build(config: &ValidatedConfig, urls: &DatabaseUrls) -> anyhow::Result<Self> {
        // Before any database: a missing secret file is a configuration error to report at once.
        let secrets = Secrets::load(config)?;
        let pool = PoolSettings {
            max_connections: config.pool_max_connections,
            acquire_timeout: config.pool_acquire_timeout,
            statement_timeout: config.statement_timeout,
            ..PoolSettings::default()
        };
        let topology = RunOpsTopology::connect(&TopologySettings {
            legacy_url: urls.legacy.clone(),
            new_url: urls.new.clone(),
            legacy_primary_url: urls.legacy_primary.clone(),
            new_primary_url: urls.new_primary.clone(),
            split: config.split,
            pool: pool.clone(),
            coalescing: config.coalescing,
        })
        .await?;
        let control_plane_pool = runview_pg::lazy_pool(&urls.control_plane, &pool)?;
        runview_pg::check_schema(
            &control_plane_pool,
            "control-plane",
            runview_controlplane::COLUMN_NEEDS,
            &[],
        )
        .await?;
        let invalidation_url = urls
            .control_plane_primary
            .clone()
            .unwrap_or_else(|| urls.control_plane.clone());
        let mut resolver = ControlPlaneResolver::new(
            control_plane_pool.clone(),
            ResolverSettings {
                ttl: config.cache_ttl,
                max_entries: config.cache_max_entries,
                stale_if_error: config.cache_stale_if_error,
            },
        );
        if urls.control_plane_primary.is_some() {
            // Publishing is rare: a pool of one connection is plenty.
            let publisher = PoolSettings {
                max_connections: 1,
                ..pool
            };
            resolver =
                resolver.publish_through(runview_pg::lazy_pool(&invalidation_url, &publisher)?);
        }
        let resolver = Arc::new(resolver);

        let mut checked: Vec<(&'static str, PgPool)> = topology
            .stores()
            .into_iter()
            .map(|store| (store.label(), store.pool().clone()))
            .collect();
        checked.push((CONTROL_PLANE, control_plane_pool.clone()));
        let mut sampled_pools: Vec<(&'static str, SampledPool)> = topology
            .stores()
            .into_iter()
            .chain(topology.primaries())
            .map(|store| (store.label(), SampledPool::Reads(store.read_pool().clone())))
            .collect();
        sampled_pools.push((CONTROL_PLANE, SampledPool::Sqlx(control_plane_pool)));
        let split = topology.is_split();

        let stores = Arc::new(topology);
        let signer = secrets.signer;
        let read = ReadAdapter {
            get_run: GetRun::new(stores.clone(), resolver.clone(), config.children_limit),
            list_runs: ListRuns::new(
                stores.clone(),
                resolver.clone(),
                signer.clone(),
                config.list_scan_budget,
            ),
            get_waitpoint: GetWaitpoint::new(
                stores.clone(),
                resolver.clone(),
                config.waitpoint_callback_url.clone(),
            ),
            list_waitpoints: ListWaitpoints::new(
                stores.clone(),
                resolver.clone(),
                signer.clone(),
                config.waitpoint_callback_url.clone(),
                config.list_scan_budget,
            ),
            get_batch: GetBatch::new(stores.clone(), resolver.clone()),
            list_batches: ListBatches::new(
                stores,
                resolver.clone(),
                signer,
                config.list_scan_budget,
            ),
            request_timeout: config.request_timeout,
            deadline_margin: config.deadline_margin,
        };
        Ok(Self {
            read,
            cache: CacheAdapter {
                resolver: resolver.clone(),
            },
            auth: secrets.auth,
            resolver,
            invalidation_url,
            readiness: readiness_dependencies(config, checked),
            sampled_pools,
            split,
            secret_reloads: secrets.reloads,
        })
    }
}

/// Every database readiness depends on. The control plane only counts once its outage outlasts
/// stale-if-error: until then cached entries keep answering, and taking every replica out of its
/// Service would turn a control-plane blip into a full outage.
fn readiness_dependencies(
    config: &ValidatedConfig,
    pools: Vec<(&'static str, PgPool)>,
) -> Vec<readiness::Dependency> {
    pools
        .into_iter()
        .map(|(database, pool)| readiness::Dependency {
            database,
            pool,
            failure_threshold: if database == CONTROL_PLANE {
                readiness::checks_spanning(
                    config.cache_stale_if_error,
                    config.readiness_interval,
                    config.readiness_failure_threshold,
                )
            } else {
                config.readiness_failure_threshold
            },
        })
        .collect()
}
