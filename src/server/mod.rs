//! Server assembly and lifecycle: connect (with the split boot check), bind every port first so
//! the bound addresses are known (port 0 in tests), serve, report readiness, and on shutdown turn
//! NOT_SERVING, stop accepting and drain within a hard deadline.

mod readiness;
mod transport;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use runview_controlplane::{ControlPlaneResolver, ResolverSettings, ResolverStats};
use runview_core::page_token::PageTokenSigner;
use runview_core::presenter::{GetRun, GetWaitpoint, ListBatches, ListRuns};
use runview_pg::PoolSettings;
use runview_store::{RunOpsTopology, TopologySettings};
use secrecy::SecretString;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;

pub use self::readiness::{LIVENESS, READINESS};
use crate::config::{Config, PageTokens};
use crate::grpc::{BearerAuth, CacheAdapter, ReadAdapter};
use crate::metrics::SampledPool;
use crate::proto::cache_service_server::CacheServiceServer;
use crate::proto::read_service_server::ReadServiceServer;
use crate::{metrics, proto};

/// The control plane's name in metrics and logs.
const CONTROL_PLANE: &str = "control_plane";

/// Where the data is: resolved from configuration or from the embedded default.
#[derive(Clone, Debug)]
pub struct DatabaseUrls {
    pub control_plane: SecretString,
    /// NOTIFY/LISTEN for cache invalidation need the primary; defaults to `control_plane`.
    pub control_plane_primary: Option<SecretString>,
    pub legacy: SecretString,
    pub new: Option<SecretString>,
    /// Asked when a lookup misses on every replica.
    pub legacy_primary: Option<SecretString>,
    pub new_primary: Option<SecretString>,
}

impl DatabaseUrls {
    /// The configured URLs; the control plane defaults to the LEGACY database (passthrough).
    pub fn from_config(config: &Config) -> Option<Self> {
        let legacy = config.legacy_database_url.clone()?;
        Some(Self {
            control_plane: config
                .control_plane_database_url
                .clone()
                .unwrap_or_else(|| legacy.clone()),
            control_plane_primary: config.control_plane_primary_database_url.clone(),
            legacy,
            new: config.new_database_url.clone(),
            legacy_primary: config.legacy_primary_database_url.clone(),
            new_primary: config.new_primary_database_url.clone(),
        })
    }
}

/// A started server. Dropping it does not stop it; call [`RunningServer::shutdown`].
pub struct RunningServer {
    pub grpc_addr: SocketAddr,
    pub health_addr: SocketAddr,
    pub metrics_addr: SocketAddr,
    resolver: Arc<ControlPlaneResolver>,
    shutdown: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

impl RunningServer {
    pub fn resolver_stats(&self) -> ResolverStats {
        self.resolver.stats()
    }

    /// Turns NOT_SERVING, stops accepting, lets in-flight requests finish, and returns once
    /// everything stopped (or the drain deadline passed).
    pub async fn shutdown(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        self.task.await.context("the server task panicked")?
    }

    /// Waits until the server stops (after [`RunningServer::shutdown`] or a failure).
    pub async fn stopped(self) -> anyhow::Result<()> {
        self.task.await.context("the server task panicked")?
    }

    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }
}

pub async fn start(config: &Config, urls: &DatabaseUrls) -> anyhow::Result<RunningServer> {
    let config = &config.validate()?;
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
    let primary_url = urls
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
            ..pool.clone()
        };
        resolver = resolver.publish_through(runview_pg::lazy_pool(&primary_url, &publisher)?);
    }
    let resolver = Arc::new(resolver);
    let mut pools: Vec<(&'static str, PgPool)> = topology
        .stores()
        .into_iter()
        .map(|store| (store.label(), store.pool().clone()))
        .collect();
    let mut sampled: Vec<(&'static str, SampledPool)> = topology
        .stores()
        .into_iter()
        .chain(topology.primaries())
        .map(|store| (store.label(), SampledPool::Reads(store.read_pool().clone())))
        .collect();
    sampled.push((CONTROL_PLANE, SampledPool::Sqlx(control_plane_pool.clone())));
    pools.push((CONTROL_PLANE, control_plane_pool));
    let stores = Arc::new(topology);
    let signer = Arc::new(page_token_signer(&config.page_tokens));
    let read = ReadAdapter {
        get_run: GetRun::new(stores.clone(), resolver.clone(), config.children_limit),
        list_runs: ListRuns::new(stores.clone(), resolver.clone(), signer.clone()),
        get_waitpoint: GetWaitpoint::new(
            stores.clone(),
            resolver.clone(),
            config.waitpoint_callback_url.clone(),
        ),
        list_batches: ListBatches::new(stores, resolver.clone(), signer),
        in_flight: Arc::new(Semaphore::new(config.max_concurrent_requests)),
        request_timeout: config.request_timeout,
    };
    let cache = CacheAdapter {
        resolver: resolver.clone(),
    };
    let auth = BearerAuth::new(&config.bearer_tokens()?);
    if auth.is_none() {
        tracing::warn!(
            "no auth_tokens configured: the read and cache services accept unauthenticated calls"
        );
    }

    let bind = |addr: SocketAddr, what: &'static str| async move {
        TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot bind the {what} address {addr}"))
    };
    let grpc_listener = bind(config.grpc_addr, "gRPC").await?;
    let health_listener = bind(config.health_addr, "health").await?;
    let metrics_listener = bind(config.metrics_addr, "metrics").await?;
    let grpc_addr = grpc_listener.local_addr()?;
    let health_addr = health_listener.local_addr()?;
    let metrics_addr = metrics_listener.local_addr()?;

    let (reporter, health_service) = tonic_health::server::health_reporter();
    reporter
        .set_service_status(LIVENESS, ServingStatus::Serving)
        .await;
    readiness::set(&reporter, ServingStatus::NotServing).await;

    let shutdown = CancellationToken::new();
    let stop_accepting = CancellationToken::new();
    let check = move |request| match &auth {
        Some(auth) => auth.admit(request),
        None => Ok(request),
    };
    let (reflection_v1, reflection_v1alpha) = if config.reflection {
        let v1 = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()?;
        let v1alpha = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1alpha()?;
        (Some(v1), Some(v1alpha))
    } else {
        (None, None)
    };
    let grpc = transport::grpc_server(config)?
        .add_service(InterceptedService::new(
            ReadServiceServer::new(read),
            check.clone(),
        ))
        .add_service(InterceptedService::new(
            CacheServiceServer::new(cache),
            check,
        ))
        .add_service(health_service.clone())
        .add_optional_service(reflection_v1)
        .add_optional_service(reflection_v1alpha)
        .serve_with_incoming_shutdown(
            // The builder's TCP settings apply only to listeners tonic binds itself: without
            // TCP_NODELAY here, Nagle holds each response's trailers until the client's delayed
            // ACK, about 40 ms per call.
            TcpIncoming::from(grpc_listener)
                .with_nodelay(Some(true))
                .with_keepalive(Some(config.tcp_keepalive)),
            stop_accepting.clone().cancelled_owned(),
        );
    // Plain HTTP/2 on purpose: Kubernetes' gRPC probes speak neither TLS nor bearer tokens.
    let health = Server::builder()
        .add_service(health_service)
        .serve_with_incoming_shutdown(
            TcpIncoming::from(health_listener).with_nodelay(Some(true)),
            stop_accepting.clone().cancelled_owned(),
        );
    let metrics_server = metrics::serve(metrics_listener, stop_accepting.clone());
    let background = [
        readiness::watch(
            reporter.clone(),
            readiness_dependencies(config, &pools),
            config.readiness_interval,
            shutdown.clone(),
        ),
        metrics::sample_pools(sampled, shutdown.clone()),
        resolver.spawn_invalidation_listener(primary_url, shutdown.clone()),
    ];
    tracing::info!(%grpc_addr, %health_addr, %metrics_addr, split = urls.new.is_some() && config.split, "runview is listening");

    let (delay, drain_deadline) = (config.shutdown_delay, config.shutdown_timeout);
    let token = shutdown.clone();
    let task = tokio::spawn(async move {
        let serving = async { tokio::try_join!(grpc, health).map(|_| ()) };
        tokio::pin!(serving);
        tokio::select! {
            result = &mut serving => return result.context("the gRPC server failed"),
            () = token.cancelled() => {}
        }
        readiness::set(&reporter, ServingStatus::NotServing).await;
        tracing::info!(
            ?delay,
            ?drain_deadline,
            "shutting down: readiness is NOT_SERVING"
        );
        tokio::time::sleep(delay).await;
        stop_accepting.cancel();
        let drained = tokio::time::timeout(drain_deadline, &mut serving).await;
        metrics_server.abort();
        for task in background {
            task.abort();
        }
        match drained {
            Ok(result) => result.context("the gRPC server failed while draining"),
            Err(_) => {
                tracing::warn!("the drain deadline passed; stopping with requests in flight");
                Ok(())
            }
        }
    });
    Ok(RunningServer {
        grpc_addr,
        health_addr,
        metrics_addr,
        resolver,
        shutdown,
        task,
    })
}

/// Every database readiness depends on. The control plane only counts once its outage outlasts
/// stale-if-error: until then cached entries keep answering, and taking every replica out of its
/// Service would turn a control-plane blip into a full outage.
fn readiness_dependencies(
    config: &Config,
    pools: &[(&'static str, PgPool)],
) -> Vec<readiness::Dependency> {
    pools
        .iter()
        .map(|(database, pool)| readiness::Dependency {
            database,
            pool: pool.clone(),
            failure_threshold: if *database == CONTROL_PLANE {
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

/// The configured secrets, else a random one for this process only.
fn page_token_signer(page_tokens: &PageTokens) -> PageTokenSigner {
    if !page_tokens.secrets.is_empty() {
        return PageTokenSigner::new(page_tokens.secrets.clone(), page_tokens.ttl);
    }
    tracing::warn!(
        "page_token_secrets is not set: page tokens are signed with a random secret of this process \
         and will not work across restarts or replicas"
    );
    let random: [u8; 32] = rand::random();
    PageTokenSigner::new(
        vec![SecretString::from(hex::encode(random))],
        page_tokens.ttl,
    )
}

/// Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => return std::future::pending().await,
        };
    tokio::select! {
        _ = interrupt => {}
        _ = terminate.recv() => {}
    }
}
