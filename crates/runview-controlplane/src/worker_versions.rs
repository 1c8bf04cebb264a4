//! The versions of background workers, which runs are locked to.

use runview_core::Error;
use runview_core::control_plane::WorkerVersion;

use crate::kind::Kind;

pub(crate) struct WorkerVersions;

#[derive(sqlx::FromRow)]
pub(crate) struct WorkerVersionRow {
    id: String,
    version: String,
}

impl Kind for WorkerVersions {
    const NAME: &'static str = "worker_version";

    const SUMMARY: &'static str = "SELECT BackgroundWorker";

    const BY_IDS: &'static str = r#"
        SELECT "id" AS id, "version" AS version
        FROM "BackgroundWorker"
        WHERE "id" = ANY($1)
    "#;

    type Row = WorkerVersionRow;
    type Value = WorkerVersion;

    fn record(row: WorkerVersionRow) -> Result<(String, WorkerVersion), Error> {
        let version = WorkerVersion {
            id: row.id.clone(),
            version: row.version,
        };
        Ok((row.id, version))
    }
}
