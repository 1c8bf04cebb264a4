//! Environments, with their project, organization, owner and signing key.

use runview_core::Error;
use runview_core::control_plane::{Environment, EnvironmentOwner, EnvironmentType, SigningKey};

use crate::kind::Kind;

pub(crate) struct Environments;

// No `Debug`: the row holds the signing key in the clear.
#[derive(sqlx::FromRow)]
pub(crate) struct EnvironmentRow {
    id: String,
    slug: String,
    environment_type: String,
    branch_name: Option<String>,
    organization_id: String,
    organization_slug: String,
    project_id: String,
    project_slug: String,
    project_ref: String,
    /// The member and the user behind a development environment are still there.
    has_owner: bool,
    owner_name: Option<String>,
    signing_key: String,
}

impl Kind for Environments {
    const NAME: &'static str = "environment";

    // A branch signs with its root environment's key, hence the parent join. The owner's name
    // comes through outer joins because a member or user may be gone while the environment stays.
    const SUMMARY: &'static str = "SELECT RuntimeEnvironment Project Organization OrgMember User";

    const BY_IDS: &'static str = r#"
        SELECT
            e."id"                                  AS id,
            e."slug"                                AS slug,
            e."type"::text                          AS environment_type,
            e."branchName"                          AS branch_name,
            o."id"                                  AS organization_id,
            o."slug"                                AS organization_slug,
            p."id"                                  AS project_id,
            p."slug"                                AS project_slug,
            p."externalRef"                         AS project_ref,
            u."id" IS NOT NULL                      AS has_owner,
            COALESCE(NULLIF(u."displayName", ''), NULLIF(u."name", ''))
                                                    AS owner_name,
            COALESCE(parent."apiKey", e."apiKey")   AS signing_key
        FROM "RuntimeEnvironment" e
        JOIN "Project" p ON p."id" = e."projectId"
        JOIN "Organization" o ON o."id" = e."organizationId"
        LEFT JOIN "RuntimeEnvironment" parent ON parent."id" = e."parentEnvironmentId"
        LEFT JOIN "OrgMember" m ON m."id" = e."orgMemberId"
        LEFT JOIN "User" u ON u."id" = m."userId"
        WHERE e."id" = ANY($1)
    "#;

    type Row = EnvironmentRow;
    type Value = Environment;

    fn record(row: EnvironmentRow) -> Result<(String, Environment), Error> {
        let environment_type =
            EnvironmentType::from_label(&row.environment_type).ok_or_else(|| {
                Error::Internal(format!(
                    "environment `{}` has the unknown type `{}`",
                    row.id, row.environment_type
                ))
            })?;
        // Only development environments belong to a person; the others have no owner to show.
        // An owner without a display name or a name shows nothing, as upstream.
        let owner = match (environment_type, row.has_owner) {
            (EnvironmentType::Development, false) => Some(EnvironmentOwner::Deleted),
            (EnvironmentType::Development, true) => row.owner_name.map(EnvironmentOwner::Named),
            _ => None,
        };
        let environment = Environment {
            id: row.id.clone(),
            slug: row.slug,
            environment_type,
            organization_id: row.organization_id,
            organization_slug: row.organization_slug,
            project_id: row.project_id,
            project_slug: row.project_slug,
            project_ref: row.project_ref,
            branch_name: row.branch_name,
            owner,
            signing_key: SigningKey::new(row.signing_key),
        };
        Ok((row.id, environment))
    }

    fn environment(key: &str) -> Option<&str> {
        Some(key)
    }

    // An absent environment has no organization: only its own invalidation (or everything's)
    // drops it.
    fn organization(environment: &Environment) -> Option<&str> {
        Some(&environment.organization_id)
    }
}
