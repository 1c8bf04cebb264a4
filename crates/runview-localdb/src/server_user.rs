//! The account the server programs run under: PostgreSQL refuses to run as root.

use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use nix::unistd::{User, geteuid};

use crate::LocalDbError;

#[derive(Debug, Clone, Copy)]
pub(crate) enum ServerUser {
    /// Not root: the programs run as this process's user, who owns everything they touch.
    Current,
    /// Root: the programs run as the `postgres` system user, who must own the data directory.
    System { uid: u32, gid: u32 },
}

impl ServerUser {
    pub(crate) fn for_this_process() -> Result<Self, LocalDbError> {
        if !geteuid().is_root() {
            return Ok(ServerUser::Current);
        }
        let user = User::from_name("postgres")
            .map_err(|e| LocalDbError::io("looking up the `postgres` system user", e.into()))?
            .ok_or(LocalDbError::NoServerUser)?;
        Ok(ServerUser::System {
            uid: user.uid.as_raw(),
            gid: user.gid.as_raw(),
        })
    }

    /// A command for a server program, run as this user.
    pub(crate) fn command(self, program: &Path) -> Command {
        let mut command = Command::new(program);
        // The server user may not be allowed into our working directory, and the PostgreSQL
        // programs fail when they cannot read it.
        command.current_dir("/");
        if let ServerUser::System { uid, gid } = self {
            command.uid(uid).gid(gid);
        }
        command
    }

    /// Hands a file or directory this process created over to the server user.
    pub(crate) fn take_ownership(self, path: &Path) -> Result<(), LocalDbError> {
        if let ServerUser::System { uid, gid } = self {
            std::os::unix::fs::chown(path, Some(uid), Some(gid)).map_err(|e| {
                LocalDbError::io(format!("handing {} to `postgres`", path.display()), e)
            })?;
        }
        Ok(())
    }

    /// Creates `dir` and its missing parents, all owned by the server user.
    pub(crate) fn create_dir_all(self, dir: &Path) -> Result<(), LocalDbError> {
        if dir.is_dir() {
            return Ok(());
        }
        if let Some(parent) = dir.parent() {
            self.create_dir_all(parent)?;
        }
        match fs::create_dir(dir) {
            Ok(()) => self.take_ownership(dir),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(LocalDbError::io(format!("creating {}", dir.display()), e)),
        }
    }

    /// Checks that the server user may pass through every existing ancestor of `dir`: a server
    /// running as `postgres` cannot use a data directory under, say, root's 0700 home.
    pub(crate) fn check_can_reach(self, dir: &Path) -> Result<(), LocalDbError> {
        let ServerUser::System { uid, gid } = self else {
            return Ok(());
        };
        for ancestor in dir.ancestors().skip(1) {
            let Ok(metadata) = fs::metadata(ancestor) else {
                continue;
            };
            // The programs run without supplementary groups, so only owner, group and other count.
            let mode = metadata.mode();
            let can_enter = if metadata.uid() == uid {
                mode & 0o100 != 0
            } else if metadata.gid() == gid {
                mode & 0o010 != 0
            } else {
                mode & 0o001 != 0
            };
            if !can_enter {
                return Err(LocalDbError::UnreachableDataDirectory {
                    data_dir: dir.to_path_buf(),
                    blocked_at: ancestor.to_path_buf(),
                });
            }
        }
        Ok(())
    }
}
