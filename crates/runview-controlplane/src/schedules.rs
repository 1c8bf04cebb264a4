//! Task schedules, as the runs they triggered show them.

use runview_core::Error;
use runview_core::control_plane::Schedule;

use crate::kind::Kind;

/// Cron is the only generator the platform has; the "type" column says whether a schedule was
/// declared in code or created through the API, which is not the generator.
const CRON_GENERATOR: &str = "CRON";

pub(crate) struct Schedules;

#[derive(sqlx::FromRow)]
pub(crate) struct ScheduleRow {
    id: String,
    friendly_id: String,
    external_id: Option<String>,
    deduplication_key: String,
    user_provided_deduplication_key: bool,
    generator_expression: String,
    generator_description: String,
}

impl Kind for Schedules {
    const NAME: &'static str = "schedule";

    const SUMMARY: &'static str = "SELECT TaskSchedule";

    const BY_IDS: &'static str = r#"
        SELECT
            "id"                            AS id,
            "friendlyId"                    AS friendly_id,
            "externalId"                    AS external_id,
            "deduplicationKey"              AS deduplication_key,
            "userProvidedDeduplicationKey"  AS user_provided_deduplication_key,
            "generatorExpression"           AS generator_expression,
            "generatorDescription"          AS generator_description
        FROM "TaskSchedule"
        WHERE "id" = ANY($1)
    "#;

    type Row = ScheduleRow;
    type Value = Schedule;

    fn record(row: ScheduleRow) -> Result<(String, Schedule), Error> {
        let schedule = Schedule {
            id: row.id.clone(),
            friendly_id: row.friendly_id,
            external_id: row.external_id,
            // A generated key is an internal detail; only the user's own key is shown.
            deduplication_key: row
                .user_provided_deduplication_key
                .then_some(row.deduplication_key),
            generator_type: CRON_GENERATOR.to_owned(),
            generator_expression: row.generator_expression,
            generator_description: row.generator_description,
        };
        Ok((row.id, schedule))
    }
}
