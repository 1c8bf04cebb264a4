//! A file of secrets, one per line, read when the server starts and read again while it serves.
//! Kubernetes updates a mounted Secret by swapping a symlink, which neither the file's own mtime
//! nor an inotify watch on it follows reliably; comparing a digest of the content every few
//! seconds catches every change, whatever way the file was replaced, for a read of a few bytes.

use std::path::{Path, PathBuf};

use anyhow::Context;
use secrecy::SecretString;
use sha2::{Digest, Sha256};

use crate::config::secret_entries;

/// Which secret a file holds, as logs and `runview_secret_reloads_total` name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Secret {
    AuthTokens,
    PageTokenSecrets,
}

impl Secret {
    fn name(self) -> &'static str {
        match self {
            Self::AuthTokens => "auth_tokens",
            Self::PageTokenSecrets => "page_token_secrets",
        }
    }

    /// The option that names the file.
    fn option(self) -> &'static str {
        match self {
            Self::AuthTokens => "auth_tokens_file",
            Self::PageTokenSecrets => "page_token_secrets_file",
        }
    }
}

/// Why a file's content was not taken; never quotes the content.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
enum Refusal {
    #[error("cannot be read ({0})")]
    Unreadable(std::io::ErrorKind),
    #[error("is not UTF-8 text")]
    NotText,
    #[error("holds no entry")]
    Empty,
}

pub struct SecretFile {
    secret: Secret,
    path: PathBuf,
    /// The digest of the content whose entries are in force.
    in_force: [u8; 32],
    /// Why the latest reading was refused: a refusal is reported once, not at every reading.
    refused: Option<Refusal>,
}

impl SecretFile {
    /// Reads the file at start: one that cannot be read or holds no entry stops the start.
    pub fn open(secret: Secret, path: &Path) -> anyhow::Result<(Self, Vec<SecretString>)> {
        let read = std::fs::read(path)
            .map_err(|error| Refusal::Unreadable(error.kind()))
            .and_then(|content| Ok((digest(&content), entries(&content)?)));
        let (in_force, entries) =
            read.with_context(|| format!("{}: {}", secret.option(), path.display()))?;
        // Both outcomes exist from the start, so that a rate over them needs no first event.
        for outcome in [RELOADED, FAILED] {
            count(secret, outcome, 0);
        }
        let file = Self {
            secret,
            path: path.to_owned(),
            in_force,
            refused: None,
        };
        Ok((file, entries))
    }

    /// The entries, when the file now holds others than those in force. A file that cannot be
    /// read or holds no entry leaves those in force, with a warning.
    pub async fn reread(&mut self) -> Option<Vec<SecretString>> {
        let content = match tokio::fs::read(&self.path).await {
            Ok(content) => content,
            Err(error) => return self.refuse(Refusal::Unreadable(error.kind())),
        };
        let digest = digest(&content);
        if digest == self.in_force {
            self.refused = None;
            return None;
        }
        let entries = match entries(&content) {
            Ok(entries) => entries,
            Err(refusal) => return self.refuse(refusal),
        };
        self.in_force = digest;
        self.refused = None;
        let secret = self.secret.name();
        tracing::info!(
            secret,
            path = %self.path.display(),
            entries = entries.len(),
            "a secret file changed: its entries are in force"
        );
        count(self.secret, RELOADED, 1);
        Some(entries)
    }

    fn refuse<T>(&mut self, refusal: Refusal) -> Option<T> {
        if self.refused.as_ref() != Some(&refusal) {
            let secret = self.secret.name();
            tracing::warn!(
                secret,
                path = %self.path.display(),
                problem = %refusal,
                "a secret file was not taken: the entries in force stay"
            );
            count(self.secret, FAILED, 1);
            self.refused = Some(refusal);
        }
        None
    }
}

const RELOADED: &str = "reloaded";
const FAILED: &str = "failed";

fn count(secret: Secret, outcome: &'static str, times: u64) {
    metrics::counter!(
        "runview_secret_reloads_total",
        "secret" => secret.name(),
        "outcome" => outcome,
    )
    .increment(times);
}

fn digest(content: &[u8]) -> [u8; 32] {
    Sha256::digest(content).into()
}

/// One entry per line, blank lines skipped.
fn entries(content: &[u8]) -> Result<Vec<SecretString>, Refusal> {
    let text = std::str::from_utf8(content).map_err(|_| Refusal::NotText)?;
    let entries = secret_entries(text, '\n');
    if entries.is_empty() {
        return Err(Refusal::Empty);
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    fn exposed(secrets: &[SecretString]) -> Vec<&str> {
        secrets.iter().map(ExposeSecret::expose_secret).collect()
    }

    fn write(path: &Path, content: &str) {
        std::fs::write(path, content).expect("written");
    }

    #[test]
    fn a_file_holds_one_entry_per_line_blank_lines_skipped() {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let path = directory.path().join("tokens");
        write(&path, "file1\r\n\n  file2  \n");
        let (_, entries) = SecretFile::open(Secret::AuthTokens, &path).expect("readable");
        assert_eq!(exposed(&entries), ["file1", "file2"]);
    }

    #[test]
    fn an_unreadable_or_empty_file_stops_the_start_naming_the_option() {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let path = directory.path().join("secrets");
        let missing = SecretFile::open(Secret::PageTokenSecrets, &path).err();
        write(&path, "\n  \n");
        let empty = SecretFile::open(Secret::PageTokenSecrets, &path).err();
        for (error, problem) in [(missing, "cannot be read"), (empty, "holds no entry")] {
            let error = format!("{:#}", error.expect("refused"));
            assert!(error.starts_with("page_token_secrets_file: "), "{error}");
            assert!(error.contains(problem), "{error}");
        }
    }

    #[tokio::test]
    async fn a_changed_file_is_taken_and_a_broken_one_keeps_the_entries_in_force() {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let path = directory.path().join("tokens");
        write(&path, "a\n");
        let (mut file, _) = SecretFile::open(Secret::AuthTokens, &path).expect("readable");
        assert!(file.reread().await.is_none(), "unchanged");

        write(&path, "b\n");
        let changed = file.reread().await.expect("changed");
        assert_eq!(exposed(&changed), ["b"]);
        assert!(file.reread().await.is_none(), "taken once");

        write(&path, "\n");
        assert!(
            file.reread().await.is_none(),
            "no entry: nothing to put in force"
        );
        assert_eq!(file.refused, Some(Refusal::Empty));
        std::fs::remove_file(&path).expect("removed");
        assert!(file.reread().await.is_none(), "unreadable");
        assert!(matches!(file.refused, Some(Refusal::Unreadable(_))));

        write(&path, "b\n");
        assert!(
            file.reread().await.is_none(),
            "back to the entries in force"
        );
        assert_eq!(file.refused, None);
        write(&path, "c\nb\n");
        let changed = file.reread().await.expect("changed");
        assert_eq!(exposed(&changed), ["c", "b"]);
    }
}
