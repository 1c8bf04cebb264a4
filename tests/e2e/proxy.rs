//! A TCP proxy between runview and the test PostgreSQL server, for the fault tests: it can cut
//! every connection (an outage or a partition) and hold back the server's replies until released
//! (a stalled database, and calls a test keeps in flight for as long as it needs). It listens on
//! loopback, port 0, and stops when dropped.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UnixStream};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

const DEFAULT_PORT: u16 = 5432;

pub struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

struct Shared {
    target: Target,
    /// Cancelled when the proxy is dropped; every connection's token descends from it.
    stopped: CancellationToken,
    mode: Mutex<Mode>,
    /// While true, no reply chunk is delivered.
    held: watch::Sender<bool>,
    /// Connections being relayed, so `cut` can wait until all of them are gone.
    live: watch::Sender<usize>,
    /// Connections with at least one reply chunk held back by the delay right now.
    delayed: AtomicUsize,
    /// Connections relayed since the start.
    accepted: AtomicUsize,
    /// Connections closed at once because the proxy was cut.
    refused: AtomicUsize,
}

/// Decided under one lock, so a connection accepted while `cut` runs is either refused or
/// carries the token `cut` cancels.
struct Mode {
    cut: bool,
    connections: CancellationToken,
}

impl Proxy {
    /// A proxy in front of the server `database_url` points at (TCP or a Unix socket).
    pub async fn start(database_url: &str) -> Self {
        let target = Target::of(&PgUrl::parse(database_url));
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("the proxy binds a loopback port");
        let addr = listener.local_addr().expect("a bound address");
        let stopped = CancellationToken::new();
        let shared = Arc::new(Shared {
            target,
            mode: Mutex::new(Mode {
                cut: false,
                connections: stopped.child_token(),
            }),
            stopped,
            held: watch::Sender::new(false),
            live: watch::Sender::new(0),
            delayed: AtomicUsize::new(0),
            accepted: AtomicUsize::new(0),
            refused: AtomicUsize::new(0),
        });
        tokio::spawn(accept(listener, Arc::clone(&shared)));
        Self { addr, shared }
    }

    /// `database_url` (user, database and parameters kept) reaching its server through this proxy.
    pub fn url_for(&self, database_url: &str) -> String {
        PgUrl::parse(database_url).through(self.addr)
    }

    /// Drops every live connection and refuses new ones until [`Proxy::restore`]; returns once
    /// every connection is closed, so a call made afterwards cannot reach the server.
    pub async fn cut(&self) {
        {
            let mut mode = self.shared.mode();
            mode.cut = true;
            let cut = std::mem::replace(&mut mode.connections, self.shared.stopped.child_token());
            cut.cancel();
        }
        self.shared
            .live
            .subscribe()
            .wait_for(|live| *live == 0)
            .await
            .expect("the proxy owns the sender");
    }

    pub fn restore(&self) {
        self.shared.mode().cut = false;
    }

    /// Holds back every reply chunk, those already waiting included, until [`Proxy::release`]:
    /// nothing is delivered however long a test takes to get to the release.
    pub fn hold(&self) {
        self.shared.held.send_replace(true);
    }

    /// Delivers what [`Proxy::hold`] held back, in order, and every reply from then on.
    pub fn release(&self) {
        self.shared.held.send_replace(false);
    }

    /// How many connections have a reply held back right now: while held, the number of
    /// queries waiting for their answers.
    pub fn delayed_connections(&self) -> usize {
        self.shared.delayed.load(Ordering::SeqCst)
    }

    /// How many connections the proxy relayed since it started (refused ones not counted): a
    /// client that reconnected has a higher count than one that kept its connections.
    pub fn accepted_connections(&self) -> usize {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// How many connections the proxy refused while cut: a client's attempts to get back in.
    pub fn refused_connections(&self) -> usize {
        self.shared.refused.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stopped.cancel();
    }
}

impl Shared {
    fn mode(&self) -> MutexGuard<'_, Mode> {
        lock(&self.mode)
    }
}

/// A panic while holding these locks leaves nothing half-done, so poisoning is ignored.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn accept(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let client = tokio::select! {
            () = shared.stopped.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok((client, _)) => client,
                Err(_) => continue,
            },
        };
        let connection = {
            let mode = shared.mode();
            // Accepting and closing at once, rather than not listening, looks like a database
            // that went away: the client fails at once instead of retrying a refused connect.
            (!mode.cut).then(|| mode.connections.clone())
        };
        match connection {
            Some(cancelled) => {
                let live = LiveConnection::new(Arc::clone(&shared));
                tokio::spawn(relay(client, live, cancelled));
            }
            None => {
                shared.refused.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
}

/// Counts a relayed connection for as long as it lives.
struct LiveConnection(Arc<Shared>);

impl LiveConnection {
    fn new(shared: Arc<Shared>) -> Self {
        shared.accepted.fetch_add(1, Ordering::SeqCst);
        shared.live.send_modify(|live| *live += 1);
        Self(shared)
    }
}

impl Drop for LiveConnection {
    fn drop(&mut self) {
        self.0.live.send_modify(|live| *live -= 1);
    }
}

async fn relay(client: TcpStream, live: LiveConnection, cancelled: CancellationToken) {
    let Ok(server) = live.0.target.connect().await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let (mut client_reads, client_writes) = client.into_split();
    let (server_reads, mut server_writes) = tokio::io::split(server);
    tokio::select! {
        () = cancelled.cancelled() => {}
        _ = tokio::io::copy(&mut client_reads, &mut server_writes) => {}
        _ = replies(server_reads, client_writes, &live.0) => {}
    }
}

/// Relays the server's replies, each chunk held back for as long as the proxy holds replies.
async fn replies(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    shared: &Shared,
) -> io::Result<()> {
    let backlog = Backlog {
        chunks: AtomicUsize::new(0),
        delayed: &shared.delayed,
    };
    let (held, mut due) = mpsc::unbounded_channel::<Vec<u8>>();
    let backlog = &backlog;
    let read = async move {
        let mut buffer = vec![0; 16 * 1024];
        loop {
            let read = from.read(&mut buffer).await?;
            if read == 0 {
                // Dropping `held` lets the writer deliver what is held, then end.
                return Ok::<_, io::Error>(());
            }
            backlog.push();
            if held.send(buffer[..read].to_vec()).is_err() {
                return Ok(());
            }
        }
    };
    let mut hold = shared.held.subscribe();
    let write = async {
        while let Some(chunk) = due.recv().await {
            if hold.wait_for(|held| !held).await.is_err() {
                return Ok(());
            }
            to.write_all(&chunk).await?;
            backlog.pop();
        }
        Ok(())
    };
    tokio::try_join!(read, write).map(|_| ())
}

/// One connection's held reply chunks, reflected in the proxy's count of delayed connections.
struct Backlog<'a> {
    chunks: AtomicUsize,
    delayed: &'a AtomicUsize,
}

impl Backlog<'_> {
    fn push(&self) {
        if self.chunks.fetch_add(1, Ordering::SeqCst) == 0 {
            self.delayed.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn pop(&self) {
        if self.chunks.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.delayed.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl Drop for Backlog<'_> {
    fn drop(&mut self) {
        if self.chunks.load(Ordering::SeqCst) > 0 {
            self.delayed.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

trait Duplex: AsyncRead + AsyncWrite + Unpin + Send {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Duplex for T {}

/// Where the PostgreSQL server listens.
#[derive(Debug)]
enum Target {
    Tcp(String),
    /// The socket file itself, not its directory.
    Unix(PathBuf),
}

impl Target {
    fn of(url: &PgUrl) -> Self {
        let port = url
            .param("port")
            .and_then(|port| port.parse().ok())
            .or(url.port)
            .unwrap_or(DEFAULT_PORT);
        match url.param("host").map(|host| percent_decode(&host)) {
            // libpq's (and sqlx's) naming of the socket inside its directory.
            Some(dir) if dir.starts_with('/') => {
                Self::Unix(PathBuf::from(dir).join(format!(".s.PGSQL.{port}")))
            }
            Some(host) => Self::Tcp(format!("{host}:{port}")),
            None => Self::Tcp(format!("{}:{port}", url.host)),
        }
    }

    async fn connect(&self) -> io::Result<Box<dyn Duplex>> {
        Ok(match self {
            Self::Tcp(addr) => {
                let stream = TcpStream::connect(addr.as_str()).await?;
                stream.set_nodelay(true)?;
                Box::new(stream)
            }
            Self::Unix(path) => Box::new(UnixStream::connect(path).await?),
        })
    }
}

/// The parts of a `postgres://user[:password]@host[:port][/database][?params]` URL the proxy
/// needs, borrowed from it.
struct PgUrl<'a> {
    scheme: &'a str,
    userinfo: Option<&'a str>,
    host: &'a str,
    port: Option<u16>,
    path: &'a str,
    params: Vec<(&'a str, &'a str)>,
}

impl<'a> PgUrl<'a> {
    fn parse(url: &'a str) -> Self {
        let (scheme, rest) = url.split_once("://").expect("a database URL has a scheme");
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (authority, path) = rest.find('/').map_or((rest, ""), |at| rest.split_at(at));
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((userinfo, hostport)) => (Some(userinfo), hostport),
            None => (None, authority),
        };
        // A bracketed IPv6 host holds colons of its own.
        let port_colon = hostport
            .rfind(':')
            .filter(|&at| !hostport[at..].contains(']'));
        let (host, port) = match port_colon {
            Some(at) => (&hostport[..at], hostport[at + 1..].parse().ok()),
            None => (hostport, None),
        };
        let params = query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
            .collect();
        Self {
            scheme,
            userinfo,
            host,
            port,
            path,
            params,
        }
    }

    fn param(&self, name: &str) -> Option<String> {
        self.params
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| (*value).to_owned())
    }

    /// This URL with its server replaced by `proxy`: parameters naming another server go.
    fn through(&self, proxy: SocketAddr) -> String {
        let userinfo = self.userinfo.map(|u| format!("{u}@")).unwrap_or_default();
        let params: Vec<String> = self
            .params
            .iter()
            .filter(|(key, _)| !matches!(*key, "host" | "hostaddr" | "port"))
            .map(|(key, value)| format!("{key}={value}"))
            .collect();
        let query = if params.is_empty() {
            String::new()
        } else {
            format!("?{}", params.join("&"))
        };
        format!("{}://{userinfo}{proxy}{}{query}", self.scheme, self.path)
    }
}

fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let escaped = (bytes[at] == b'%')
            .then(|| value.get(at + 1..at + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                decoded.push(byte);
                at += 3;
            }
            None => {
                decoded.push(bytes[at]);
                at += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxy() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 40000))
    }

    #[test]
    fn a_tcp_url_is_pointed_at_the_proxy_keeping_user_database_and_parameters() {
        let url = PgUrl::parse("postgres://postgres:pw@localhost:5433/runview_x?sslmode=disable");
        assert!(matches!(Target::of(&url), Target::Tcp(addr) if addr == "localhost:5433"));
        assert_eq!(
            url.through(proxy()),
            "postgres://postgres:pw@127.0.0.1:40000/runview_x?sslmode=disable"
        );
    }

    #[test]
    fn a_socket_url_is_forwarded_to_the_socket_and_loses_its_host_parameter() {
        let url = PgUrl::parse(
            "postgres://postgres@localhost:5432/db?host=/tmp/run%20pg/data&sslmode=disable",
        );
        assert!(matches!(
            Target::of(&url),
            Target::Unix(path) if path.as_path() == std::path::Path::new("/tmp/run pg/data/.s.PGSQL.5432")
        ));
        assert_eq!(
            url.through(proxy()),
            "postgres://postgres@127.0.0.1:40000/db?sslmode=disable"
        );
    }

    #[test]
    fn a_url_without_port_or_database_reaches_port_5432() {
        let url = PgUrl::parse("postgres://postgres@127.0.0.1");
        assert!(matches!(Target::of(&url), Target::Tcp(addr) if addr == "127.0.0.1:5432"));
        assert_eq!(url.through(proxy()), "postgres://postgres@127.0.0.1:40000");
    }
}
