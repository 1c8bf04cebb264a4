//! The postmaster process behind a data directory, as the operating system sees it.

use std::fs;
use std::io::ErrorKind;
use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::kill;
use nix::unistd::Pid;

use crate::LocalDbError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProcessState {
    Gone,
    /// Exited but not reaped yet: a server started by pg_ctl is reaped by whichever process
    /// adopted it, which may take a while. It still answers signals.
    Zombie,
    Running,
}

pub(crate) fn process_state(pid: i32) -> ProcessState {
    if kill(Pid::from_raw(pid), None).is_err() {
        return ProcessState::Gone;
    }
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return ProcessState::Running;
    };
    // The state follows the command name, which is in parentheses and may contain anything.
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next());
    if state == Some("Z") {
        ProcessState::Zombie
    } else {
        ProcessState::Running
    }
}

/// The pid in the lock file of `data_dir`, if there is a readable one.
pub(crate) fn postmaster_pid(data_dir: &Path) -> Result<Option<i32>, LocalDbError> {
    let pid_file = data_dir.join("postmaster.pid");
    match fs::read_to_string(&pid_file) {
        Ok(contents) => Ok(contents
            .lines()
            .next()
            .and_then(|line| line.trim().parse().ok())),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(LocalDbError::io_at("reading", &pid_file, e)),
    }
}

/// Waits until `pid` has exited. The postmaster removes its lock file, which is what pg_ctl waits
/// for, a moment before it exits.
pub(crate) fn wait_for_exit(pid: i32, timeout: Duration) -> Result<(), LocalDbError> {
    if wait_until(pid, timeout, |state| state != ProcessState::Running) {
        Ok(())
    } else {
        Err(LocalDbError::io(
            format!("waiting for the PostgreSQL server (pid {pid}) to exit"),
            std::io::Error::from(ErrorKind::TimedOut),
        ))
    }
}

/// Polls the state of `pid` until `done` accepts it; returns false when `timeout` passes first.
pub(crate) fn wait_until(pid: i32, timeout: Duration, done: impl Fn(ProcessState) -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while !done(process_state(pid)) {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}
