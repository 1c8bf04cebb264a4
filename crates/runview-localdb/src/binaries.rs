//! Locating the PostgreSQL server programs installed on the machine.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::LocalDbError;

const SERVER_PROGRAMS: [&str; 3] = ["initdb", "pg_ctl", "postgres"];

/// The directory holding initdb, pg_ctl and postgres, and the major version they belong to.
#[derive(Debug)]
pub(crate) struct Binaries {
    dir: PathBuf,
    major_version: String,
}

impl Binaries {
    /// Prefers what `pg_config` reports, then the newest Debian/Ubuntu install, then `PATH`.
    pub(crate) fn find() -> Result<Self, LocalDbError> {
        let dir = pg_config_bindir()
            .or_else(newest_debian_bindir)
            .or_else(path_bindir)
            .ok_or(LocalDbError::BinariesNotFound)?;
        let major_version = major_version(&dir)?;
        Ok(Binaries { dir, major_version })
    }

    pub(crate) fn program(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// As written to a data directory's `PG_VERSION` file ("15", or "9.6" before version 10).
    pub(crate) fn major_version(&self) -> &str {
        &self.major_version
    }
}

fn has_server_programs(dir: &Path) -> bool {
    SERVER_PROGRAMS.iter().all(|name| dir.join(name).is_file())
}

/// `pg_config` may come from a client-only package, so its directory still has to hold the server.
fn pg_config_bindir() -> Option<PathBuf> {
    let output = Command::new("pg_config").arg("--bindir").output().ok()?;
    if !output.status.success() {
        return None;
    }
    let dir = PathBuf::from(String::from_utf8(output.stdout).ok()?.trim());
    has_server_programs(&dir).then_some(dir)
}

/// Debian and Ubuntu install each major version side by side and keep initdb off `PATH`.
fn newest_debian_bindir() -> Option<PathBuf> {
    std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let major: u32 = entry.file_name().to_str()?.parse().ok()?;
            Some((major, entry.path().join("bin")))
        })
        .filter(|(_, dir)| has_server_programs(dir))
        .max_by_key(|(major, _)| *major)
        .map(|(_, dir)| dir)
}

fn path_bindir() -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).find(|dir| has_server_programs(dir))
}

/// Reads the version from `pg_ctl --version`, which answers even when run as root.
fn major_version(dir: &Path) -> Result<String, LocalDbError> {
    let pg_ctl = dir.join("pg_ctl");
    let output = Command::new(&pg_ctl)
        .arg("--version")
        .output()
        .map_err(|e| LocalDbError::io(format!("running {} --version", pg_ctl.display()), e))?;
    let text = String::from_utf8_lossy(&output.stdout);
    parse_major_version(&text).ok_or_else(|| {
        LocalDbError::io(
            format!("reading the version of {}", pg_ctl.display()),
            std::io::Error::other(format!("unexpected output {:?}", text.trim())),
        )
    })
}

/// "pg_ctl (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)" → "15"; "... 9.6.24" → "9.6".
fn parse_major_version(version_output: &str) -> Option<String> {
    let (_, rest) = version_output.split_once("(PostgreSQL) ")?;
    let version = rest.split_whitespace().next()?;
    let mut parts = version.split(|c: char| !c.is_ascii_digit());
    let first: u32 = parts.next()?.parse().ok()?;
    if first >= 10 {
        Some(first.to_string())
    } else {
        let second: u32 = parts.next()?.parse().ok()?;
        Some(format!("{first}.{second}"))
    }
}

#[cfg(test)]
mod tests {
    use super::parse_major_version;

    #[test]
    fn major_version_is_read_from_modern_and_old_version_strings() {
        let debian = "pg_ctl (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)\n";
        assert_eq!(parse_major_version(debian).as_deref(), Some("15"));
        assert_eq!(
            parse_major_version("pg_ctl (PostgreSQL) 17beta1").as_deref(),
            Some("17")
        );
        assert_eq!(
            parse_major_version("pg_ctl (PostgreSQL) 9.6.24").as_deref(),
            Some("9.6")
        );
        assert_eq!(parse_major_version("something else"), None);
    }
}
