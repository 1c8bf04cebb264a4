//! Loads the [`Catalog`] into the control-plane database, parents before children because the
//! control-plane schema has foreign keys.

use sqlx::PgPool;

use crate::catalog::Catalog;
use crate::copy::{RowWriter, Table, copy_rows};
use crate::schema::{
    BACKGROUND_WORKER, ORG_MEMBER, ORGANIZATION, PROJECT, RUNTIME_ENVIRONMENT, TASK_SCHEDULE, USER,
};
use crate::values::TASKS;

/// Rows loaded into the control plane.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ControlPlaneCounts {
    pub users: u64,
    pub org_members: u64,
    pub organizations: u64,
    pub projects: u64,
    pub environments: u64,
    pub workers: u64,
    pub schedules: u64,
}

pub(crate) async fn write_catalog(
    pool: &PgPool,
    catalog: &Catalog,
) -> Result<ControlPlaneCounts, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let mut load = async |table: &Table, data: Vec<u8>| copy_rows(&mut conn, table, &data).await;
    let at = catalog.founded_at;
    Ok(ControlPlaneCounts {
        users: load(
            &USER,
            encode(&USER, &catalog.users, |row, user| {
                row.text(&user.id)
                    .text(&user.email)
                    .plain(user.authentication)
                    .opt_text(user.name.as_deref())
                    .opt_text(user.display_name.as_deref())
                    .timestamp(at)
                    .timestamp(at);
            }),
        )
        .await?,
        organizations: load(
            &ORGANIZATION,
            encode(&ORGANIZATION, &catalog.organizations, |row, org| {
                row.text(&org.id)
                    .text(&org.slug)
                    .text(&org.title)
                    .timestamp(at)
                    .timestamp(at)
                    .null();
            }),
        )
        .await?,
        org_members: load(
            &ORG_MEMBER,
            encode(&ORG_MEMBER, &catalog.members, |row, member| {
                row.text(&member.id)
                    .text(&catalog.organizations[member.organization].id)
                    .text(&member.user_id)
                    .plain(member.role)
                    .timestamp(at)
                    .timestamp(at);
            }),
        )
        .await?,
        projects: load(
            &PROJECT,
            encode(&PROJECT, &catalog.projects, |row, project| {
                row.text(&project.id)
                    .text(&project.slug)
                    .text(&project.name)
                    .text(&project.external_ref)
                    .text(&catalog.organizations[project.organization].id)
                    .timestamp(at)
                    .timestamp(at)
                    .null();
            }),
        )
        .await?,
        environments: load(
            &RUNTIME_ENVIRONMENT,
            encode(&RUNTIME_ENVIRONMENT, &catalog.environments, |row, env| {
                let project = &catalog.projects[env.project];
                row.text(&env.id)
                    .text(&env.slug)
                    .plain(env.kind)
                    .text(&env.api_key)
                    .text(&env.pk_api_key)
                    .text(&env.shortcode)
                    .text(&project.id)
                    .text(&catalog.organizations[project.organization].id)
                    .opt_text(
                        env.parent
                            .map(|parent| catalog.environments[parent].id.as_str()),
                    )
                    .opt_text(env.branch_name)
                    .null()
                    .plain(false)
                    .opt_text(env.owner_member_id.as_deref())
                    .timestamp(at)
                    .timestamp(at);
            }),
        )
        .await?,
        workers: load(
            &BACKGROUND_WORKER,
            encode(&BACKGROUND_WORKER, &catalog.workers, |row, worker| {
                let env = &catalog.environments[worker.environment];
                let metadata = serde_json::json!({
                    "packageVersion": worker.sdk_version,
                    "contentHash": worker.content_hash,
                    "tasks": TASKS.iter().map(|task| serde_json::json!({
                        "id": task,
                        "filePath": format!("src/trigger/{task}.ts"),
                    })).collect::<Vec<_>>(),
                });
                row.text(&worker.id)
                    .text(&worker.friendly_id)
                    .text(&worker.version)
                    .json(&metadata)
                    .text(&worker.content_hash)
                    .text(worker.sdk_version)
                    .text(worker.sdk_version)
                    .text(&env.id)
                    .text(&catalog.projects[env.project].id)
                    .timestamp(worker.created_at)
                    .timestamp(worker.created_at);
            }),
        )
        .await?,
        schedules: load(
            &TASK_SCHEDULE,
            encode(&TASK_SCHEDULE, &catalog.schedules, |row, schedule| {
                row.text(&schedule.id)
                    .text(&schedule.friendly_id)
                    .plain(schedule.kind)
                    .text(schedule.task)
                    .text(&schedule.deduplication_key)
                    .plain(schedule.user_provided_key)
                    .text(schedule.cron)
                    .text(schedule.description)
                    .text(schedule.timezone)
                    .opt_text(schedule.external_id.as_deref())
                    .text(&catalog.projects[schedule.project].id)
                    .plain(true)
                    .timestamp(at)
                    .timestamp(at);
            }),
        )
        .await?,
    })
}

fn encode<T>(table: &Table, items: &[T], fill: impl Fn(&mut RowWriter<'_>, &T)) -> Vec<u8> {
    let mut out = Vec::new();
    for item in items {
        let mut row = RowWriter::new(&mut out, table);
        fill(&mut row, item);
        row.end();
    }
    out
}
