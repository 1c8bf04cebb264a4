//! What the resolver makes of the control-plane rows.

use runview_core::control_plane::{EnvironmentOwner, EnvironmentType};
use runview_core::ports::ControlPlane;

use crate::fixture::{keys, seeded_with_defaults};

#[tokio::test]
async fn environments_carry_their_project_and_organization() {
    let seeded = seeded_with_defaults().await;
    let resolved = seeded
        .resolver
        .environments(keys(&["env_prod"]))
        .await
        .expect("resolved");

    let environment = &resolved["env_prod"];
    assert_eq!(environment.id, "env_prod");
    assert_eq!(environment.slug, "prod");
    assert_eq!(environment.environment_type, EnvironmentType::Production);
    assert_eq!(environment.organization_id, "org_1");
    assert_eq!(environment.organization_slug, "acme");
    assert_eq!(environment.project_id, "project_1");
    assert_eq!(environment.project_slug, "rockets");
    assert_eq!(environment.project_ref, "proj_abcdefghijklmnopqrst");
    assert_eq!(environment.branch_name, None);
    assert_eq!(environment.signing_key.expose(), "tr_prod_root");
}

#[tokio::test]
async fn a_branch_signs_with_its_parents_key() {
    let seeded = seeded_with_defaults().await;
    let resolved = seeded
        .resolver
        .environments(keys(&["env_branch", "env_preview"]))
        .await
        .expect("resolved");

    let branch = &resolved["env_branch"];
    assert_eq!(branch.branch_name.as_deref(), Some("feature-x"));
    assert_eq!(branch.signing_key.expose(), "tr_preview_root");
    assert_eq!(
        resolved["env_preview"].signing_key.expose(),
        "tr_preview_root"
    );
}

#[tokio::test]
async fn development_owners_show_the_display_name_else_the_name_and_deleted_when_gone() {
    let seeded = seeded_with_defaults().await;
    let resolved = seeded
        .resolver
        .environments(keys(&[
            "env_dev_ada",
            "env_dev_grace",
            "env_dev_nameless",
            "env_dev_gone",
        ]))
        .await
        .expect("resolved");

    let owner = |id: &str| resolved[id].owner.clone();
    assert_eq!(
        owner("env_dev_ada"),
        Some(EnvironmentOwner::Named("Ada L".into()))
    );
    // An empty display name counts as none.
    assert_eq!(
        owner("env_dev_grace"),
        Some(EnvironmentOwner::Named("Grace Hopper".into()))
    );
    // An owner with neither a display name nor a name shows none, not "Deleted".
    assert_eq!(owner("env_dev_nameless"), None);
    assert_eq!(owner("env_dev_gone"), Some(EnvironmentOwner::Deleted));
}

#[tokio::test]
async fn environments_other_than_development_have_no_owner() {
    let seeded = seeded_with_defaults().await;
    let resolved = seeded
        .resolver
        .environments(keys(&["env_prod", "env_staging", "env_preview"]))
        .await
        .expect("resolved");

    // The staging environment has a member on its row; it still belongs to no one.
    for environment in resolved.values() {
        assert_eq!(environment.owner, None, "{}", environment.id);
    }
    assert_eq!(resolved.len(), 3);
}

#[tokio::test]
async fn signing_keys_stay_out_of_debug_output() {
    let seeded = seeded_with_defaults().await;
    let resolved = seeded
        .resolver
        .environments(keys(&["env_prod"]))
        .await
        .expect("resolved");

    assert!(!format!("{resolved:?}").contains("tr_prod_root"));
}

#[tokio::test]
async fn worker_versions_resolve_to_their_version_string() {
    let seeded = seeded_with_defaults().await;
    let resolved = seeded
        .resolver
        .worker_versions(keys(&["worker_1", "worker_missing"]))
        .await
        .expect("resolved");

    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved["worker_1"].version, "20250101.1");
}

#[tokio::test]
async fn schedules_show_the_deduplication_key_only_when_the_user_provided_it() {
    let seeded = seeded_with_defaults().await;
    let resolved = seeded
        .resolver
        .schedules(keys(&["schedule_user", "schedule_generated"]))
        .await
        .expect("resolved");

    let user = &resolved["schedule_user"];
    assert_eq!(user.friendly_id, "sched_user");
    assert_eq!(user.external_id.as_deref(), Some("customer-42"));
    assert_eq!(user.deduplication_key.as_deref(), Some("my-dedup-key"));
    assert_eq!(user.generator_type, "CRON");
    assert_eq!(user.generator_expression, "0 3 * * *");
    assert_eq!(user.generator_description, "At 03:00 AM");

    let generated = &resolved["schedule_generated"];
    assert_eq!(generated.deduplication_key, None);
    assert_eq!(generated.external_id, None);
    assert_eq!(generated.generator_type, "CRON");
}
