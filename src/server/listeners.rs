//! Every port is bound before anything is served, so the bound addresses are known up front (port
//! 0 in tests) and a taken port fails the start rather than a background task.

use std::net::SocketAddr;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::config::Config;

pub struct Listeners {
    pub grpc: TcpListener,
    pub health: TcpListener,
    pub metrics: TcpListener,
}

/// Where the listeners are bound.
#[derive(Clone, Copy, Debug)]
pub struct BoundAddrs {
    pub grpc: SocketAddr,
    pub health: SocketAddr,
    pub metrics: SocketAddr,
}

impl Listeners {
    pub async fn bind(config: &Config) -> anyhow::Result<Self> {
        Ok(Self {
            grpc: bind(config.grpc_addr, "gRPC").await?,
            health: bind(config.health_addr, "health").await?,
            metrics: bind(config.metrics_addr, "metrics").await?,
        })
    }

    pub fn addrs(&self) -> anyhow::Result<BoundAddrs> {
        Ok(BoundAddrs {
            grpc: self.grpc.local_addr()?,
            health: self.health.local_addr()?,
            metrics: self.metrics.local_addr()?,
        })
    }
}

async fn bind(addr: SocketAddr, what: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot bind the {what} address {addr}"))
}
