//! Serving until stopped. Readiness starts NOT_SERVING and follows the databases and the
//! invalidation listener from then on. On shutdown it turns NOT_SERVING at once, the listeners
//! keep accepting for `shutdown_delay` so load balancers stop picking this replica, then stop
//! accepting, and in-flight requests have `shutdown_timeout` to finish.

use std::sync::Arc;

use anyhow::Context;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Server;
use tonic::transport::server::{Router, TcpIncoming};
use tonic_health::ServingStatus;
use tonic_health::pb::health_server::{Health, HealthServer};

use super::connections::{ConnectionLimits, Connections};
use super::listeners::Listeners;
use super::services::Services;
use super::{LIVENESS, RunningServer, readiness, secrets, transport};
use crate::config::ValidatedConfig;
use crate::grpc::{BearerAuth, CacheAdapter, Edge, ReadAdapter};
use crate::proto::cache_service_server::CacheServiceServer;
use crate::proto::read_service_server::ReadServiceServer;
use crate::{metrics, proto};

/// Serves on the bound listeners in a task of its own, which the returned server stops.
pub async fn serve(
    config: &ValidatedConfig,
    services: Services,
    listeners: Listeners,
) -> anyhow::Result<RunningServer> {
    let addrs = listeners.addrs()?;
    let Services {
        read,
        cache,
        auth,
        resolver,
        invalidation_url,
        readiness: dependencies,
        sampled_pools,
        split,
        secret_reloads,
    } = services;
    let (reporter, health_service) = tonic_health::server::health_reporter();
    reporter
        .set_service_status(LIVENESS, ServingStatus::Serving)
        .await;
    readiness::set(&reporter, ServingStatus::NotServing).await;

    let shutdown = CancellationToken::new();
    let stop_accepting = CancellationToken::new();
    let limits = |max_open| ConnectionLimits {
        max_open,
        first_byte_timeout: config.connection_first_byte_timeout,
        idle_timeout: config.connection_idle_timeout,
    };
    // The builder's TCP settings apply only to listeners tonic binds itself: without TCP_NODELAY
    // here, Nagle holds each response's trailers until the client's delayed ACK, about 40 ms per
    // call.
    let grpc_connections = Connections::new(
        TcpIncoming::from(listeners.grpc)
            .with_nodelay(Some(true))
            .with_keepalive(Some(config.tcp_keepalive)),
        "grpc",
        limits(config.grpc_max_connections),
    );
    let health_connections = Connections::new(
        TcpIncoming::from(listeners.health).with_nodelay(Some(true)),
        "health",
        limits(config.health_max_connections),
    );
    let metrics_connections = Connections::new(
        TcpIncoming::from(listeners.metrics),
        "metrics",
        limits(config.metrics_max_connections),
    );
    let grpc = grpc_router(config, read, cache, auth, health_service.clone())?
        .serve_with_incoming_shutdown(
            grpc_connections.into_incoming(),
            stop_accepting.clone().cancelled_owned(),
        );
    // Plain HTTP/2 on purpose: Kubernetes' gRPC probes speak neither TLS nor bearer tokens.
    let health = Server::builder()
        .add_service(health_service)
        .serve_with_incoming_shutdown(
            health_connections.into_incoming(),
            stop_accepting.clone().cancelled_owned(),
        );
    let metrics_server = metrics::serve(metrics_connections, stop_accepting.clone());
    let background = [
        readiness::watch(
            reporter.clone(),
            dependencies,
            resolver.listener_watch(),
            config.readiness_interval,
            shutdown.clone(),
        ),
        metrics::sample_pools(sampled_pools, shutdown.clone()),
        resolver.spawn_invalidation_listener(invalidation_url, shutdown.clone()),
        secrets::watch(
            secret_reloads,
            config.secret_reload_interval,
            shutdown.clone(),
        ),
    ];
    tracing::info!(grpc_addr = %addrs.grpc, health_addr = %addrs.health, metrics_addr = %addrs.metrics, split, "runview is listening");

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
        grpc_addr: addrs.grpc,
        health_addr: addrs.health,
        metrics_addr: addrs.metrics,
        resolver,
        shutdown,
        task,
    })
}

/// The gRPC port's services: reads, the cache and reflection (when enabled) behind bearer
/// authentication, and health.
fn grpc_router(
    config: &ValidatedConfig,
    read: ReadAdapter,
    cache: CacheAdapter,
    auth: Option<BearerAuth>,
    health_service: HealthServer<impl Health>,
) -> anyhow::Result<Router> {
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
        // The descriptors describe the whole contract: with authentication on, only a caller
        // with a token may read them.
        (
            Some(InterceptedService::new(v1, check.clone())),
            Some(InterceptedService::new(v1alpha, check.clone())),
        )
    } else {
        (None, None)
    };
    // Shedding, the size limit and the count come before authentication and decoding, so they
    // apply to every request however it fails; health and reflection stay outside them.
    let max_bytes = config.max_request_bytes;
    let read = ReadServiceServer::new(read).max_decoding_message_size(max_bytes);
    let cache = CacheServiceServer::new(cache).max_decoding_message_size(max_bytes);
    let read_limit = Arc::new(Semaphore::new(config.max_concurrent_requests));
    let invalidation_limit = Arc::new(Semaphore::new(config.max_concurrent_invalidations));
    Ok(transport::grpc_server(config)?
        .add_service(Edge::new(
            InterceptedService::new(read, check.clone()),
            read_limit,
            max_bytes,
        ))
        .add_service(Edge::new(
            InterceptedService::new(cache, check),
            invalidation_limit,
            max_bytes,
        ))
        .add_service(health_service)
        .add_optional_service(reflection_v1)
        .add_optional_service(reflection_v1alpha))
}
