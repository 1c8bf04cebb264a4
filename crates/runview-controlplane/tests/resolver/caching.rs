//! How often the resolver goes to the control plane: once per page of misses, never for a key it
//! remembers (present or absent), again after the TTL, and never twice for concurrent misses.

use std::sync::Arc;
use std::time::Duration;

use runview_controlplane::{ControlPlaneResolver, KindStats, ResolverSettings};
use runview_core::Error;
use runview_core::ports::ControlPlane;
use runview_pg::PoolSettings;
use secrecy::SecretString;
use tokio::sync::Barrier;

use crate::fixture::{keys, seeded, seeded_with_defaults, short_ttl};

#[tokio::test]
async fn the_duplicate_keys_of_a_page_resolve_with_one_query() {
    let seeded = seeded_with_defaults().await;
    let resolved = seeded
        .resolver
        .environments(keys(&[
            "env_prod",
            "env_dev_ada",
            "env_prod",
            "env_dev_ada",
        ]))
        .await
        .expect("resolved");

    assert_eq!(resolved.len(), 2);
    let stats = seeded.resolver.stats().environments;
    assert_eq!(
        stats,
        KindStats {
            hits: 0,
            misses: 2,
            stale: 0,
            loads: 1
        }
    );
}

#[tokio::test]
async fn a_second_call_for_the_same_keys_issues_no_query() {
    let seeded = seeded_with_defaults().await;
    let page = keys(&["env_prod", "env_branch"]);
    seeded
        .resolver
        .environments(page.clone())
        .await
        .expect("first");
    let again = seeded.resolver.environments(page).await.expect("second");

    assert_eq!(again["env_branch"].signing_key.expose(), "tr_preview_root");
    let stats = seeded.resolver.stats().environments;
    assert_eq!(
        stats,
        KindStats {
            hits: 2,
            misses: 2,
            stale: 0,
            loads: 1
        }
    );
}

#[tokio::test]
async fn absent_keys_are_remembered_as_absent() {
    let seeded = seeded_with_defaults().await;
    let page = keys(&["env_prod", "env_deleted"]);
    let first = seeded
        .resolver
        .environments(page.clone())
        .await
        .expect("first");
    let second = seeded.resolver.environments(page).await.expect("second");

    for resolved in [first, second] {
        assert!(resolved.contains_key("env_prod"));
        assert!(!resolved.contains_key("env_deleted"));
    }
    let stats = seeded.resolver.stats().environments;
    assert_eq!(
        stats,
        KindStats {
            hits: 2,
            misses: 2,
            stale: 0,
            loads: 1
        }
    );
}

#[tokio::test]
async fn each_kind_has_its_own_cache() {
    let seeded = seeded_with_defaults().await;
    let resolver = &seeded.resolver;
    resolver
        .environments(keys(&["env_prod"]))
        .await
        .expect("environments");
    resolver
        .worker_versions(keys(&["worker_1"]))
        .await
        .expect("versions");
    resolver
        .schedules(keys(&["schedule_user"]))
        .await
        .expect("schedules");
    resolver
        .schedules(keys(&["schedule_user"]))
        .await
        .expect("schedules again");

    let stats = resolver.stats();
    assert_eq!(
        stats.environments,
        KindStats {
            hits: 0,
            misses: 1,
            stale: 0,
            loads: 1
        }
    );
    assert_eq!(
        stats.worker_versions,
        KindStats {
            hits: 0,
            misses: 1,
            stale: 0,
            loads: 1
        }
    );
    assert_eq!(
        stats.schedules,
        KindStats {
            hits: 1,
            misses: 1,
            stale: 0,
            loads: 1
        }
    );
}

#[tokio::test]
async fn entries_are_loaded_again_once_the_ttl_has_passed() {
    let seeded = seeded(short_ttl()).await;
    let page = keys(&["env_prod", "env_deleted"]);
    seeded
        .resolver
        .environments(page.clone())
        .await
        .expect("first");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let resolved = seeded
        .resolver
        .environments(page)
        .await
        .expect("after the ttl");

    assert!(resolved.contains_key("env_prod"));
    assert_eq!(seeded.resolver.stats().environments.loads, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_misses_of_one_key_share_one_query() {
    let seeded = seeded_with_defaults().await;
    let resolver = Arc::new(seeded.resolver);
    // Released together, so the calls overlap rather than queue behind the first one's load.
    let start = Arc::new(Barrier::new(20));
    let calls = (0..20).map(|_| {
        let resolver = Arc::clone(&resolver);
        let start = Arc::clone(&start);
        tokio::spawn(async move {
            start.wait().await;
            resolver.worker_versions(keys(&["worker_1"])).await
        })
    });

    for call in futures::future::join_all(calls).await {
        let resolved = call.expect("the task completes").expect("resolved");
        assert_eq!(resolved["worker_1"].version, "20250101.1");
    }
    let stats = resolver.stats().worker_versions;
    assert_eq!(stats.loads, 1);
    assert_eq!(stats.hits + stats.misses, 20);
}

#[tokio::test]
async fn an_unreachable_control_plane_is_unavailable_and_the_failure_is_not_cached() {
    let settings = PoolSettings {
        acquire_timeout: Duration::from_millis(200),
        ..PoolSettings::default()
    };
    let url = SecretString::from("postgres://postgres@127.0.0.1:1/controlplane");
    let pool = runview_pg::lazy_pool(&url, &settings).expect("a lazy pool");
    let resolver = ControlPlaneResolver::new(pool, ResolverSettings::default());

    for _ in 0..2 {
        let error = resolver
            .environments(keys(&["env_prod"]))
            .await
            .expect_err("the control plane is down");
        assert!(
            matches!(&error, Error::Unavailable { dependency, .. } if dependency == "control plane"),
            "{error:?}"
        );
    }
    assert_eq!(resolver.stats().environments.loads, 2);
}

#[tokio::test]
async fn schedule_ids_are_resolved_by_friendly_id_and_remembered() {
    let seeded = seeded_with_defaults().await;
    let page = keys(&["sched_user", "sched_generated", "sched_missing"]);
    let first = seeded
        .resolver
        .schedule_ids(page.clone())
        .await
        .expect("first");
    let second = seeded.resolver.schedule_ids(page).await.expect("second");

    for resolved in [first, second] {
        assert_eq!(resolved.len(), 2);
        assert_eq!(resolved["sched_user"].as_str(), "schedule_user");
        assert_eq!(resolved["sched_generated"].as_str(), "schedule_generated");
    }
    assert_eq!(
        seeded.resolver.stats().schedule_ids,
        KindStats {
            hits: 3,
            misses: 3,
            stale: 0,
            loads: 1
        }
    );
}
