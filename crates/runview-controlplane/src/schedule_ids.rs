//! Schedule ids by friendly id, so runs can be filtered by the schedule a caller names.

use runview_core::Error;

use crate::kind::Kind;

pub(crate) struct ScheduleIds;

#[derive(sqlx::FromRow)]
pub(crate) struct ScheduleIdRow {
    friendly_id: String,
    id: String,
}

impl Kind for ScheduleIds {
    const NAME: &'static str = "schedule_id";

    const SUMMARY: &'static str = "SELECT TaskSchedule";

    const BY_IDS: &'static str = r#"
        SELECT "friendlyId" AS friendly_id, "id" AS id
        FROM "TaskSchedule"
        WHERE "friendlyId" = ANY($1)
    "#;

    type Row = ScheduleIdRow;
    type Value = String;

    fn record(row: ScheduleIdRow) -> Result<(String, String), Error> {
        Ok((row.friendly_id, row.id))
    }
}
