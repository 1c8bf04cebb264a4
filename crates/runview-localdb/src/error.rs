use std::io;
use std::path::{Path, PathBuf};

/// Why the private PostgreSQL could not be prepared, started, stopped or used.
#[derive(Debug, thiserror::Error)]
pub enum LocalDbError {
    #[error(
        "PostgreSQL server programs (initdb, pg_ctl, postgres) were not found via `pg_config --bindir`, \
         in /usr/lib/postgresql/<version>/bin or on PATH; install them (Debian/Ubuntu: \
         `apt-get install postgresql`), or point runview at existing databases with the RUNVIEW_* \
         database URL settings"
    )]
    BinariesNotFound,

    #[error(
        "running as root, but there is no `postgres` system user to run the PostgreSQL server as \
         (PostgreSQL refuses to run as root); install the `postgresql` package, which creates it, \
         or run as an ordinary user"
    )]
    NoServerUser,

    #[error(
        "{} is not empty and holds no cluster made by runview; refusing to use or replace it",
        path.display()
    )]
    NotADataDirectory { path: PathBuf },

    #[error(
        "the `postgres` system user, which runs the server, cannot enter {} and so cannot reach \
         the data directory {}; choose a data directory it can reach, or let it in \
         (`chmod o+x {}`)",
        blocked_at.display(),
        data_dir.display(),
        blocked_at.display()
    )]
    UnreachableDataDirectory {
        data_dir: PathBuf,
        blocked_at: PathBuf,
    },

    #[error(
        "the Unix socket path {} is longer than {max} bytes; choose a shorter data directory",
        path.display()
    )]
    SocketPathTooLong { path: PathBuf, max: usize },

    #[error("{context}: {cause}")]
    Io { context: String, cause: io::Error },

    #[error("`{command}` failed ({status}): {output}")]
    Command {
        command: String,
        status: std::process::ExitStatus,
        output: String,
    },

    #[error(
        "the PostgreSQL server in {} did not start: {cause}\nlast lines of {}:\n{log_tail}",
        data_dir.display(),
        log.display()
    )]
    Start {
        data_dir: PathBuf,
        log: PathBuf,
        cause: Box<LocalDbError>,
        log_tail: String,
    },

    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl LocalDbError {
    pub(crate) fn io(context: impl Into<String>, cause: io::Error) -> Self {
        LocalDbError::Io {
            context: context.into(),
            cause,
        }
    }

    /// A file-system `action` ("reading", "removing") on `path` that failed.
    pub(crate) fn io_at(action: &str, path: &Path, cause: io::Error) -> Self {
        Self::io(format!("{action} {}", path.display()), cause)
    }
}
