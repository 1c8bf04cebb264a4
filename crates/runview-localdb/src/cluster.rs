//! The data directory of the private server: making it a usable cluster before each start.

use std::ffi::OsString;
use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::LocalDbError;
use crate::binaries::Binaries;
use crate::pg_ctl::run;
use crate::server_user::ServerUser;

/// Where the server listens; a socket of its own directory cannot clash with another server.
pub(crate) const PORT: u16 = 5432;

/// `sun_path` holds 108 bytes on Linux, including the terminating NUL.
const MAX_SOCKET_PATH: usize = 107;

/// Settings rewritten on every start, so that a moved data directory still gets the right socket.
/// The line including them in postgresql.conf also marks a cluster as ours.
const RUNTIME_SETTINGS: &str = "runview.conf";

/// Where initdb runs, beside the data directory.
const STAGING_SUFFIX: &str = ".initdb";

/// Where a replaced cluster goes to be deleted, beside the data directory.
const DISCARDED_SUFFIX: &str = ".discarded";

#[derive(Debug)]
pub(crate) struct Cluster {
    pub(crate) binaries: Binaries,
    pub(crate) user: ServerUser,
    /// Absolute, and also the socket directory.
    pub(crate) data_dir: PathBuf,
}

/// What a data directory holds before the server starts.
enum DataDirState {
    Missing,
    Usable,
    /// Empty, or a cluster of ours that is broken or of another major version: a throwaway
    /// cluster is simply remade.
    Replaceable,
    /// Anything else, such as a cluster of another installation: not ours to stop or delete.
    Foreign,
}

impl Cluster {
    pub(crate) fn new(data_dir: PathBuf) -> Result<Self, LocalDbError> {
        let socket = socket_path(&data_dir);
        if socket.as_os_str().len() > MAX_SOCKET_PATH {
            return Err(LocalDbError::SocketPathTooLong {
                path: socket,
                max: MAX_SOCKET_PATH,
            });
        }
        let user = ServerUser::for_this_process()?;
        user.check_can_reach(&data_dir)?;
        Ok(Cluster {
            binaries: Binaries::find()?,
            user,
            data_dir,
        })
    }

    /// The server log lives beside the data directory so that remaking the cluster keeps it.
    pub(crate) fn log_file(&self) -> PathBuf {
        sibling(&self.data_dir, ".log")
    }

    /// Leaves a data directory holding a cluster of the installed version that no server serves.
    pub(crate) fn prepare(&self) -> Result<(), LocalDbError> {
        for leftover in [STAGING_SUFFIX, DISCARDED_SUFFIX] {
            remove_if_present(&sibling(&self.data_dir, leftover))?;
        }
        match self.inspect()? {
            DataDirState::Foreign => Err(LocalDbError::NotADataDirectory {
                path: self.data_dir.clone(),
            }),
            DataDirState::Missing => self.initdb(),
            DataDirState::Usable => self.stop_leftover_postmaster(),
            DataDirState::Replaceable => {
                tracing::warn!(
                    data_dir = %self.data_dir.display(),
                    "replacing a cluster that is broken or of another PostgreSQL version"
                );
                self.stop_leftover_postmaster()?;
                // Renamed first, so that a removal cut short never leaves a half-deleted cluster
                // under the real name.
                let discarded = sibling(&self.data_dir, DISCARDED_SUFFIX);
                fs::rename(&self.data_dir, &discarded)
                    .map_err(|e| LocalDbError::io_at("moving aside", &self.data_dir, e))?;
                remove_if_present(&discarded)?;
                self.initdb()
            }
        }
    }

    fn inspect(&self) -> Result<DataDirState, LocalDbError> {
        let mut entries = match fs::read_dir(&self.data_dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(DataDirState::Missing),
            Err(e) => return Err(LocalDbError::io_at("reading", &self.data_dir, e)),
        };
        if entries.next().is_none() {
            return Ok(DataDirState::Replaceable);
        }
        let config = fs::read_to_string(self.data_dir.join("postgresql.conf")).unwrap_or_default();
        if !config.contains(&include_line()) {
            return Ok(DataDirState::Foreign);
        }
        let version = fs::read_to_string(self.data_dir.join("PG_VERSION")).unwrap_or_default();
        let complete = self.data_dir.join("global/pg_control").is_file();
        if complete && version.trim() == self.binaries.major_version() {
            Ok(DataDirState::Usable)
        } else {
            Ok(DataDirState::Replaceable)
        }
    }

    /// initdb runs in a staging directory that is renamed into place once complete, so that an
    /// interrupted run never leaves a data directory that looks usable.
    fn initdb(&self) -> Result<(), LocalDbError> {
        let parent = self.data_dir.parent().unwrap_or(Path::new("/"));
        self.user.create_dir_all(parent)?;
        let staging = sibling(&self.data_dir, STAGING_SUFFIX);
        fs::create_dir(&staging).map_err(|e| LocalDbError::io_at("creating", &staging, e))?;
        fs::set_permissions(&staging, fs::Permissions::from_mode(0o700))
            .map_err(|e| LocalDbError::io_at("restricting", &staging, e))?;
        self.user.take_ownership(&staging)?;

        tracing::info!(data_dir = %self.data_dir.display(), "initializing a private PostgreSQL cluster");
        let mut initdb = self.user.command(&self.binaries.program("initdb"));
        initdb.arg("-D").arg(&staging).args([
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        ]);
        run(initdb)?;

        let config = staging.join("postgresql.conf");
        OpenOptions::new()
            .append(true)
            .open(&config)
            .and_then(|mut file| writeln!(file, "\n{}", include_line()))
            .map_err(|e| LocalDbError::io_at("extending", &config, e))?;
        fs::rename(&staging, &self.data_dir)
            .map_err(|e| LocalDbError::io_at("moving into place", &staging, e))
    }

    /// A private throwaway server: reachable only through its own socket, durability traded for
    /// speed (a crash loses at most demo or test data).
    pub(crate) fn write_runtime_settings(&self) -> Result<(), LocalDbError> {
        let settings = format!(
            "listen_addresses = ''\n\
             unix_socket_directories = {socket_dir}\n\
             port = {PORT}\n\
             max_connections = 200\n\
             shared_buffers = 128MB\n\
             fsync = off\n\
             synchronous_commit = off\n\
             full_page_writes = off\n",
            socket_dir = config_string(&self.data_dir.to_string_lossy()),
        );
        let path = self.data_dir.join(RUNTIME_SETTINGS);
        fs::write(&path, settings).map_err(|e| LocalDbError::io_at("writing", &path, e))?;
        self.user.take_ownership(&path)
    }
}

pub(crate) fn socket_path(socket_dir: &Path) -> PathBuf {
    socket_dir.join(format!(".s.PGSQL.{PORT}"))
}

fn include_line() -> String {
    format!("include = '{RUNTIME_SETTINGS}'")
}

fn remove_if_present(dir: &Path) -> Result<(), LocalDbError> {
    match fs::remove_dir_all(dir) {
        Err(e) if e.kind() != ErrorKind::NotFound => Err(LocalDbError::io_at("removing", dir, e)),
        _ => Ok(()),
    }
}

/// `dir` with `suffix` appended to its last component: `/x/data` → `/x/data.log`.
fn sibling(dir: &Path, suffix: &str) -> PathBuf {
    let mut name = dir.file_name().map(OsString::from).unwrap_or_default();
    name.push(suffix);
    dir.with_file_name(name)
}

/// A string literal of postgresql.conf.
fn config_string(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "''"))
}
