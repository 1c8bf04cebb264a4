//! Applies the invalidations heard on the control-plane database's notification channel.

use std::sync::Arc;

use runview_core::Error;
use runview_pg::PoolSettings;
use secrecy::SecretString;
use sqlx::postgres::PgListener;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::backoff::Backoff;
use crate::stats::{self, Origin};
use crate::{ControlPlaneResolver, InvalidationScope, ListenerState};

/// The channel invalidation notices are published on, by replicas and triggers alike.
pub(crate) const CHANNEL: &str = "runview_invalidate";

/// The listener as named in errors and logs.
const LISTENER: &str = "control-plane invalidation listener";

/// Shown in `pg_stat_activity`, so an operator can tell the listening session apart.
const APPLICATION_NAME: &str = "runview-invalidation-listener";

pub(crate) async fn listen(
    resolver: Arc<ControlPlaneResolver>,
    url: SecretString,
    shutdown: CancellationToken,
) {
    let mut backoff = Backoff::default();
    let mut missed_notices = false;
    stats::listener_started();
    loop {
        let ended = tokio::select! {
            () = shutdown.cancelled() => return,
            ended = session(&resolver, &url, missed_notices, &mut backoff) => ended,
        };
        // The outage starts when LISTEN was lost, not at each failed attempt to get it back.
        resolver.listener.send_if_modified(|state| {
            let lost = *state == ListenerState::Listening;
            if lost {
                *state = ListenerState::Down {
                    since: Instant::now(),
                };
            }
            lost
        });
        tracing::warn!(error = %ended, "cache invalidations are not heard until the listener reconnects");
        missed_notices = true;
        stats::listener_reconnect();
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(backoff.next_delay()) => {}
        }
    }
}

/// Listens on one connection until it fails, and tells why it ended.
async fn session(
    resolver: &ControlPlaneResolver,
    url: &SecretString,
    missed_notices: bool,
    backoff: &mut Backoff,
) -> Error {
    let mut listener = match subscribe(url).await {
        Ok(listener) => listener,
        Err(error) => return error,
    };
    backoff.reset();
    tracing::info!("listening for cache invalidations");
    // Notices published while no LISTEN was in place are lost, and any entry may be one of those
    // they invalidated. Dropping everything once LISTEN is back covers the whole gap, and while
    // the control plane is down, stale entries stay available to stale-if-error.
    if missed_notices {
        resolver.drop_entries(&InvalidationScope::All);
        stats::listener_flush();
    }
    // Only now: the cache holds nothing a missed notice could have invalidated.
    resolver.listener.send_replace(ListenerState::Listening);
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) => apply(resolver, notification.payload()),
            Ok(None) => return Error::unavailable(LISTENER, "the connection was lost"),
            Err(error) => return runview_pg::map_error(LISTENER, error),
        }
    }
}

async fn subscribe(url: &SecretString) -> Result<PgListener, Error> {
    let settings = PoolSettings {
        max_connections: 1,
        application_name: APPLICATION_NAME.to_owned(),
        ..PoolSettings::default()
    };
    // A pool per connection, so a connection that failed is never handed out again.
    let pool = runview_pg::lazy_pool(url, &settings)?;
    let connect = async {
        let mut listener = PgListener::connect_with(&pool).await?;
        // Reconnecting is this module's business: with backoff, and with a flush.
        listener.eager_reconnect(false);
        listener.listen(CHANNEL).await?;
        Ok(listener)
    };
    connect
        .await
        .map_err(|error| runview_pg::map_error(LISTENER, error))
}

fn apply(resolver: &ControlPlaneResolver, notice: &str) {
    match InvalidationScope::from_notice(notice) {
        Ok(scope) => {
            resolver.drop_entries(&scope);
            stats::invalidation(&scope, Origin::Received);
        }
        Err(error) => tracing::warn!(%error, notice, "ignored a malformed invalidation notice"),
    }
}
