//! Every port's connections, bounded: at most a configured number open at once, and each closed
//! when its peer stays silent, with no first byte within `connection_first_byte_timeout` of the
//! accept or no byte either way for `connection_idle_timeout`.
//!
//! Without this a socket that connects and never speaks holds a descriptor for ever: hyper waits
//! for an HTTP/2 preface without a deadline, and a graceful shutdown waits for it too. Beyond the
//! cap a connection is closed as soon as it is accepted rather than left in the kernel's backlog,
//! so a flood is refused at once and the port goes on accepting as connections free up. Each port
//! has a cap of its own, so a flood of the gRPC port leaves health answering. One implementation
//! serves the gRPC and health ports (tonic) and the metrics port (axum).

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use futures::{Stream, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};
use tonic::transport::server::{Connected, TcpIncoming};

use crate::metrics;

/// How long the accept loop pauses after an error that is not one connection's, such as the
/// descriptor limit: retrying at once would spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// One port's cap and deadlines.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    pub max_open: usize,
    pub first_byte_timeout: Duration,
    pub idle_timeout: Duration,
}

/// The connections of one port, each holding one of the port's permits while it is open.
pub struct Connections {
    incoming: TcpIncoming,
    open: Arc<Semaphore>,
    limits: ConnectionLimits,
    /// The metrics label: `grpc`, `health` or `metrics`.
    port: &'static str,
}

impl Connections {
    pub fn new(incoming: TcpIncoming, port: &'static str, limits: ConnectionLimits) -> Self {
        Self {
            incoming,
            open: Arc::new(Semaphore::new(limits.max_open)),
            limits,
            port,
        }
    }

    /// The next connection within the cap; those beyond it are closed as they come.
    pub async fn next_connection(&mut self) -> Connection<TcpStream> {
        loop {
            let stream = match self.incoming.next().await {
                Some(Ok(stream)) => stream,
                Some(Err(error)) => {
                    if !concerns_one_connection(&error) {
                        tracing::warn!(port = self.port, %error, "cannot accept connections");
                        tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    }
                    continue;
                }
                // A listener's stream does not end; were it to, no connection would come.
                None => std::future::pending().await,
            };
            match Arc::clone(&self.open).try_acquire_owned() {
                Ok(permit) => return Connection::new(stream, permit, self.port, self.limits),
                Err(_) => metrics::connection_dropped(self.port, "over_limit"),
            }
        }
    }

    /// The connections as tonic takes them.
    pub fn into_incoming(self) -> impl Stream<Item = Result<Connection<TcpStream>, Infallible>> {
        futures::stream::unfold(self, |mut connections| async move {
            let connection = connections.next_connection().await;
            Some((Ok(connection), connections))
        })
    }
}

impl axum::serve::Listener for Connections {
    type Io = Connection<TcpStream>;
    type Addr = Option<SocketAddr>;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let connection = self.next_connection().await;
        let peer = connection.io.peer_addr().ok();
        (connection, peer)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.incoming.local_addr().map(Some)
    }
}

/// An accept error of one connection (it went away before it was accepted), after which the
/// next can be accepted at once.
fn concerns_one_connection(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    )
}

/// An accepted connection that fails its reads and writes, so the server closes it, once its
/// peer has been silent too long. The deadline is checked only while the server waits on the
/// socket, which is when a silent peer holds it.
pub struct Connection<IO> {
    io: IO,
    deadline: Pin<Box<Sleep>>,
    /// When a byte last went either way; none before the peer's first byte.
    last_activity: Option<Instant>,
    idle_timeout: Duration,
    timed_out: bool,
    open: Open,
}

impl<IO> Connection<IO> {
    fn new(
        io: IO,
        permit: OwnedSemaphorePermit,
        port: &'static str,
        limits: ConnectionLimits,
    ) -> Self {
        Self {
            io,
            deadline: Box::pin(tokio::time::sleep(limits.first_byte_timeout)),
            last_activity: None,
            idle_timeout: limits.idle_timeout,
            timed_out: false,
            open: Open::new(port, permit),
        }
    }

    fn active(&mut self) {
        let now = Instant::now();
        if self.last_activity.is_none() {
            self.deadline.as_mut().reset(now + self.idle_timeout);
        }
        self.last_activity = Some(now);
    }

    /// Records bytes sent: the server speaks first on HTTP/2 (its settings), so only the peer's
    /// first byte ends the wait for it.
    fn wrote(&mut self, polled: &Poll<io::Result<usize>>) {
        if let Poll::Ready(Ok(written)) = polled
            && *written > 0
            && self.last_activity.is_some()
        {
            self.active();
        }
    }

    /// A pending read or write fails instead once the deadline has passed.
    fn unless_expired<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        match polled {
            Poll::Pending => self.poll_expired(cx).map(Err),
            done => done,
        }
    }

    /// Ready with the error that closes the connection once the deadline has passed.
    fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        loop {
            ready!(self.deadline.as_mut().poll(cx));
            // Activity only records its time, and the timer moves when it fires, so a busy
            // connection touches the timer once per idle period instead of on every read.
            match self.last_activity.map(|at| at + self.idle_timeout) {
                Some(idle_until) if idle_until > Instant::now() => {
                    self.deadline.as_mut().reset(idle_until);
                }
                _ => break,
            }
        }
        let reason = if self.last_activity.is_none() {
            "first_byte_timeout"
        } else {
            "idle_timeout"
        };
        if !std::mem::replace(&mut self.timed_out, true) {
            metrics::connection_dropped(self.open.port, reason);
        }
        Poll::Ready(io::Error::new(io::ErrorKind::TimedOut, reason))
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Connection<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.io).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.active();
        }
        this.unless_expired(cx, polled)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Connection<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.io).poll_write(cx, data);
        this.wrote(&polled);
        this.unless_expired(cx, polled)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.io).poll_write_vectored(cx, data);
        this.wrote(&polled);
        this.unless_expired(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.io).poll_flush(cx);
        this.unless_expired(cx, polled)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

impl Connected for Connection<TcpStream> {
    type ConnectInfo = <TcpStream as Connected>::ConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.io.connect_info()
    }
}

/// A port's permit for one open connection, and its count in the open-connections gauge.
struct Open {
    port: &'static str,
    _permit: OwnedSemaphorePermit,
}

impl Open {
    fn new(port: &'static str, permit: OwnedSemaphorePermit) -> Self {
        metrics::connection_opened(port);
        Self {
            port,
            _permit: permit,
        }
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        metrics::connection_closed(self.port);
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
    use tokio::net::TcpListener;

    use super::*;

    const LIMITS: ConnectionLimits = ConnectionLimits {
        max_open: 1,
        first_byte_timeout: Duration::from_secs(5),
        idle_timeout: Duration::from_secs(60),
    };

    /// The server's side of a connection whose peer is the returned stream.
    fn connection() -> (Connection<DuplexStream>, DuplexStream) {
        let (server, peer) = tokio::io::duplex(1024);
        let permit = Arc::new(Semaphore::new(1))
            .try_acquire_owned()
            .expect("a permit");
        (Connection::new(server, permit, "test", LIMITS), peer)
    }

    /// Reads until the connection fails; the error and when it came.
    async fn read_until_closed(connection: &mut Connection<DuplexStream>) -> (io::Error, Instant) {
        let mut buffer = [0; 16];
        loop {
            match connection.read(&mut buffer).await {
                Ok(0) => panic!("the peer hung up"),
                Ok(_) => {}
                Err(error) => return (error, Instant::now()),
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_peer_that_never_speaks_is_cut_off_at_the_first_byte_timeout() {
        let (mut connection, _peer) = connection();
        let accepted = Instant::now();
        let (error, at) = read_until_closed(&mut connection).await;
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert_eq!(error.to_string(), "first_byte_timeout");
        assert!(at - accepted >= LIMITS.first_byte_timeout);
        assert!(at - accepted < LIMITS.idle_timeout);
    }

    #[tokio::test(start_paused = true)]
    async fn what_the_server_sends_first_does_not_stand_for_the_peers_first_byte() {
        let (mut connection, _peer) = connection();
        let accepted = Instant::now();
        connection.write_all(b"settings").await.expect("buffered");
        let (error, at) = read_until_closed(&mut connection).await;
        assert_eq!(error.to_string(), "first_byte_timeout");
        assert!(at - accepted < LIMITS.idle_timeout);
    }

    #[tokio::test(start_paused = true)]
    async fn once_the_peer_spoke_only_silence_as_long_as_the_idle_timeout_closes() {
        let (mut connection, mut peer) = connection();
        tokio::time::sleep(LIMITS.first_byte_timeout / 2).await;
        peer.write_all(b"x").await.expect("sent");
        let spoke = Instant::now();
        let (error, at) = read_until_closed(&mut connection).await;
        assert_eq!(error.to_string(), "idle_timeout");
        assert!(at - spoke >= LIMITS.idle_timeout);
    }

    #[tokio::test(start_paused = true)]
    async fn traffic_either_way_keeps_a_connection_open_past_its_timeouts() {
        let (mut connection, mut peer) = connection();
        let accepted = Instant::now();
        let mut buffer = [0; 16];
        for round in 0..6 {
            tokio::time::sleep(LIMITS.idle_timeout / 2).await;
            if round % 2 == 0 {
                peer.write_all(b"x").await.expect("sent");
                let read = connection.read(&mut buffer).await.expect("still open");
                assert_eq!(read, 1);
            } else {
                connection.write_all(b"y").await.expect("still open");
            }
        }
        let last = Instant::now();
        assert!(last - accepted >= LIMITS.idle_timeout * 3);
        let (error, at) = read_until_closed(&mut connection).await;
        assert_eq!(error.to_string(), "idle_timeout");
        assert!(at - last >= LIMITS.idle_timeout);
    }

    #[tokio::test]
    async fn beyond_the_cap_a_connection_is_closed_at_once_and_a_freed_permit_admits_the_next() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bound");
        let addr = listener.local_addr().expect("an address");
        let mut connections = Connections::new(TcpIncoming::from(listener), "test", LIMITS);

        let _first_peer = TcpStream::connect(addr).await.expect("connects");
        let first = connections.next_connection().await;
        let mut refused = TcpStream::connect(addr).await.expect("connects");
        let next = tokio::spawn(async move { connections.next_connection().await });
        let read = refused.read(&mut [0; 1]).await;
        assert!(
            matches!(read, Ok(0) | Err(_)),
            "closed without a byte: {read:?}"
        );

        drop(first);
        let admitted_peer = TcpStream::connect(addr).await.expect("connects");
        let admitted = next.await.expect("accepts");
        assert_eq!(
            admitted.io.peer_addr().expect("connected"),
            admitted_peer.local_addr().expect("bound")
        );
    }
}
