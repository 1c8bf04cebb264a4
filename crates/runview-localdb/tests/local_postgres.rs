//! The private server against the PostgreSQL binaries of this machine.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use nix::sys::signal::kill;
use nix::unistd::{Pid, geteuid};
use runview_localdb::{LocalDbError, LocalPostgres};
use sqlx::{Connection, PgConnection};
use tempfile::TempDir;

/// A temporary directory the server user can enter when the tests run as root.
fn scratch_dir() -> TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("permissions");
    dir
}

fn postmaster_pid(data_dir: &Path) -> i32 {
    let contents = fs::read_to_string(data_dir.join("postmaster.pid")).expect("postmaster.pid");
    contents
        .lines()
        .next()
        .and_then(|line| line.parse().ok())
        .expect("a pid")
}

/// Exited processes count as gone even before they are reaped (a zombie's stat state is `Z`).
fn is_alive(pid: i32) -> bool {
    let zombie = fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| Some(stat.rsplit_once(')')?.1.split_whitespace().next()? == "Z"))
        .unwrap_or(false);
    kill(Pid::from_raw(pid), None).is_ok() && !zombie
}

async fn connect(server: &LocalPostgres, database: &str) -> PgConnection {
    PgConnection::connect(&server.url(database))
        .await
        .expect("connects through the socket")
}

async fn greeting(server: &LocalPostgres) -> String {
    let mut conn = connect(server, "demo").await;
    let greeting = sqlx::query_scalar("SELECT text FROM greeting")
        .fetch_one(&mut conn)
        .await
        .expect("the row written before the restart");
    conn.close().await.expect("close");
    greeting
}

#[tokio::test]
async fn local_postgres_keeps_its_data_across_restarts_and_crashes_and_stops_cleanly() {
    let dir = scratch_dir();
    let data_dir = dir.path().join("pg");

    let server = LocalPostgres::start(&data_dir).await.expect("first start");
    assert!(server.ensure_database("demo").await.expect("create"));
    assert!(!server.ensure_database("demo").await.expect("exists"));
    let mut conn = connect(&server, "demo").await;
    sqlx::raw_sql("CREATE TABLE greeting (text text); INSERT INTO greeting VALUES ('hello')")
        .execute(&mut conn)
        .await
        .expect("write");
    conn.close().await.expect("close");
    let first_pid = postmaster_pid(&data_dir);
    server.stop().expect("stop");
    assert!(!is_alive(first_pid), "stop leaves no postmaster");
    assert!(!data_dir.join("postmaster.pid").exists());

    let server = LocalPostgres::start(&data_dir).await.expect("restart");
    assert_eq!(greeting(&server).await, "hello");

    // A crash of the owning process leaves the postmaster running; the next start replaces it.
    let crashed_pid = postmaster_pid(&data_dir);
    std::mem::forget(server);
    let server = LocalPostgres::start(&data_dir)
        .await
        .expect("start after a crash");
    assert!(
        !is_alive(crashed_pid),
        "the leftover postmaster was stopped"
    );
    assert_eq!(greeting(&server).await, "hello");

    let last_pid = postmaster_pid(&data_dir);
    drop(server);
    assert!(!is_alive(last_pid), "drop stops the server");
}

#[tokio::test]
async fn local_postgres_remakes_its_cluster_when_it_is_of_another_major_version() {
    let dir = scratch_dir();
    let data_dir = dir.path().join("pg");
    let server = LocalPostgres::start(&data_dir).await.expect("start");
    assert!(server.ensure_database("old").await.expect("create"));
    server.stop().expect("stop");
    fs::write(data_dir.join("PG_VERSION"), "9.6\n").expect("pretend an old version");

    let server = LocalPostgres::start(&data_dir)
        .await
        .expect("start on a remade cluster");
    assert!(
        server.ensure_database("old").await.expect("create again"),
        "a fresh cluster"
    );
    server.stop().expect("stop");
}

#[tokio::test]
async fn local_postgres_refuses_to_replace_a_directory_that_is_not_a_cluster() {
    let dir = scratch_dir();
    fs::write(dir.path().join("notes.txt"), "keep me").expect("a foreign file");

    let error = LocalPostgres::start(dir.path()).await.expect_err("refused");
    assert!(
        matches!(error, LocalDbError::NotADataDirectory { .. }),
        "{error}"
    );
    assert!(dir.path().join("notes.txt").exists());
}

#[tokio::test]
async fn local_postgres_as_root_explains_a_data_directory_the_server_user_cannot_reach() {
    // Only root hands the server to the `postgres` user; an ordinary user reaches its own files.
    if !geteuid().is_root() {
        return;
    }
    let private = tempfile::tempdir().expect("temporary directory");
    fs::set_permissions(private.path(), fs::Permissions::from_mode(0o700)).expect("permissions");

    let error = LocalPostgres::start(&private.path().join("pg"))
        .await
        .expect_err("refused");
    assert!(
        matches!(error, LocalDbError::UnreachableDataDirectory { .. }),
        "{error}"
    );
}
