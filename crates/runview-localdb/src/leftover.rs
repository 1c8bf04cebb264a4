//! A postmaster that a crashed earlier run left serving the data directory.

use std::fs;
use std::io::ErrorKind;
use std::path::Path;
use std::time::Duration;

use crate::LocalDbError;
use crate::cluster::{Cluster, socket_path};
use crate::pg_ctl::StopMode;
use crate::process::{ProcessState, postmaster_pid, process_state, wait_until};

/// How long a dead postmaster may wait to be reaped by the process that adopted it.
const REAP_PATIENCE: Duration = Duration::from_secs(5);

/// What the process named by a data directory's lock file is.
enum LockOwner {
    /// PostgreSQL replaces the lock files of a dead process by itself, after checking that no
    /// orphaned server process still uses the cluster's shared memory.
    Gone,
    /// Dead but not reaped yet, so it still looks alive to PostgreSQL.
    Zombie,
    /// An unrelated process that reused the pid: it must not be signalled, yet PostgreSQL takes
    /// it for a running server.
    Stranger,
    Postmaster,
}

impl Cluster {
    /// Stops a postmaster still serving this data directory, so that a fresh one can start.
    pub(crate) fn stop_leftover_postmaster(&self) -> Result<(), LocalDbError> {
        // An unreadable lock file is replaced by PostgreSQL too.
        let Some(pid) = postmaster_pid(&self.data_dir)? else {
            return Ok(());
        };
        match lock_owner(pid, &self.data_dir) {
            LockOwner::Gone => Ok(()),
            // Waiting keeps PostgreSQL's own shared-memory check in play, which removing the
            // lock files would skip.
            LockOwner::Zombie
                if wait_until(pid, REAP_PATIENCE, |state| state == ProcessState::Gone) =>
            {
                Ok(())
            }
            LockOwner::Zombie | LockOwner::Stranger => self.remove_lock_files(),
            LockOwner::Postmaster => {
                tracing::warn!(
                    pid,
                    data_dir = %self.data_dir.display(),
                    "stopping a PostgreSQL server left running by an earlier run"
                );
                self.stop_server(StopMode::Immediate)
            }
        }
    }

    /// The data directory's lock file and the socket's, both naming the dead postmaster.
    fn remove_lock_files(&self) -> Result<(), LocalDbError> {
        let mut socket_lock = socket_path(&self.data_dir).into_os_string();
        socket_lock.push(".lock");
        for lock in [self.data_dir.join("postmaster.pid"), socket_lock.into()] {
            match fs::remove_file(&lock) {
                Err(e) if e.kind() != ErrorKind::NotFound => {
                    return Err(LocalDbError::io_at("removing", &lock, e));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// A postmaster runs in its data directory; when that cannot be told, the process is taken for
/// our postmaster.
fn lock_owner(pid: i32, data_dir: &Path) -> LockOwner {
    match process_state(pid) {
        ProcessState::Gone => return LockOwner::Gone,
        ProcessState::Zombie => return LockOwner::Zombie,
        ProcessState::Running => {}
    }
    let Ok(cwd) = fs::read_link(format!("/proc/{pid}/cwd")) else {
        return LockOwner::Postmaster;
    };
    let data_dir = fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
    if cwd == data_dir {
        LockOwner::Postmaster
    } else {
        LockOwner::Stranger
    }
}
