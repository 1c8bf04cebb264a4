//! ListWaitpoints walks tokens in id order through an upstream index, whatever the filters, on
//! thousands of ANALYZEd tokens: the walk, cut at its limit, is the work a call does. PostgreSQL
//! walks ("environmentId", type, id DESC) for an environment with a small share of the tokens
//! and may walk the primary key backward for one holding a large share; both stop at the limit.

use chrono::TimeDelta;
use runview_core::filter::{WaitpointAttributes, WaitpointFilter, WaitpointListQuery};
use runview_core::ids::Residency;
use runview_core::page::{Cursor, Direction, Keyset, PageRequest, TimeWindow};
use runview_core::waitpoint::WaitpointStatus;
use runview_store::list_waitpoints_sql;

use crate::support::{
    environment, explain_generic_and_custom, insert_bulk_tokens, new_year, plan_nodes,
    runops_database,
};

const WALKED_INDEXES: [&str; 2] = ["Waitpoint_environmentId_type_id_idx", "Waitpoint_pkey"];

fn filters() -> Vec<(&'static str, WaitpointFilter)> {
    let whole = TimeWindow {
        start: None,
        end: new_year() + TimeDelta::days(60),
    };
    let unfiltered = WaitpointFilter {
        statuses: Vec::new(),
        window: whole,
        attributes: WaitpointAttributes::default(),
    };
    let with = |attributes| WaitpointFilter {
        attributes,
        ..unfiltered.clone()
    };
    vec![
        ("no filter", unfiltered.clone()),
        (
            "a rare tag",
            with(WaitpointAttributes {
                tags: vec!["user:3".into()],
                ..WaitpointAttributes::default()
            }),
        ),
        (
            "an idempotency key",
            with(WaitpointAttributes {
                idempotency_key: Some("c4ca4238a0b923820dcc509a6f75849b".into()),
                ..WaitpointAttributes::default()
            }),
        ),
        (
            "timed out",
            WaitpointFilter {
                statuses: vec![WaitpointStatus::TimedOut],
                ..unfiltered.clone()
            },
        ),
        (
            "a window",
            WaitpointFilter {
                window: TimeWindow {
                    start: Some(new_year() + TimeDelta::days(3)),
                    end: new_year() + TimeDelta::days(20),
                },
                ..unfiltered
            },
        ),
    ]
}

/// The statement's parameters as SQL literals, in the order it binds them.
fn arguments(query: &WaitpointListQuery) -> String {
    let filter = &query.filter;
    let mut literals = vec![format!("'{}'", query.environment_id.as_str())];
    literals.extend(
        filter
            .window
            .start
            .map(|at| format!("'{}'", at.naive_utc())),
    );
    literals.push(format!("'{}'", filter.window.end.naive_utc()));
    literals.extend(
        query
            .page
            .cursor
            .as_ref()
            .map(|c| format!("'{}'", c.keyset.id)),
    );
    let filtered = !filter.statuses.is_empty()
        || !filter.attributes.tags.is_empty()
        || filter.attributes.idempotency_key.is_some();
    let walk = if filtered {
        query.scan_budget
    } else {
        query.page.limit
    };
    literals.push(walk.to_string());
    if !filter.attributes.tags.is_empty() {
        let tags = filter.attributes.tags.join(",");
        literals.push(format!("'{{{tags}}}'"));
    }
    if let Some(key) = &filter.attributes.idempotency_key {
        literals.extend([format!("'{key}'"), format!("'{key}'")]);
    }
    literals.push(query.page.limit.to_string());
    literals.push(walk.to_string());
    literals.join(", ")
}

#[tokio::test]
async fn token_pages_walk_the_id_index_in_order_for_every_filter_and_direction() {
    let database = runops_database(Residency::New).await;
    insert_bulk_tokens(database.pool()).await;
    let cursor = |direction| Cursor {
        keyset: Keyset {
            created_at: new_year(),
            id: format!("c{:0>24x}", 10_000),
        },
        direction,
    };
    for (name, filter) in filters() {
        for cursor in [
            None,
            Some(cursor(Direction::Forward)),
            Some(cursor(Direction::Backward)),
        ] {
            let query = WaitpointListQuery {
                environment_id: environment("env_1"),
                filter: filter.clone(),
                page: PageRequest { cursor, limit: 26 },
                // A tenth of the environment's tokens: with more, sorting them all may cost less.
                scan_budget: 200,
            };
            let sql = list_waitpoints_sql(&query);
            let plans = explain_generic_and_custom(database.pool(), &sql, &arguments(&query)).await;
            // Never kept prepared: the plan made with the values is the one that runs.
            let (_, plan) = plans
                .iter()
                .find(|(mode, _)| *mode == "force_custom_plan")
                .expect("a custom plan");
            let nodes = plan_nodes(plan);
            let walk = nodes
                .iter()
                .find(|node| node["Subplan Name"] == "CTE walk")
                .unwrap_or_else(|| panic!("{name}: no walk in {plan}"));
            let scan = &walk["Plans"][0];
            assert_eq!(walk["Node Type"], "Limit", "{name}: {walk}");
            assert_eq!(scan["Node Type"], "Index Scan", "{name}: {walk}");
            let index = scan["Index Name"].as_str().unwrap_or_default();
            assert!(WALKED_INDEXES.contains(&index), "{name}: {walk}");
            let reads_of_the_table = nodes
                .iter()
                .filter(|node| node["Relation Name"] == "Waitpoint")
                .count();
            assert_eq!(reads_of_the_table, 1, "{name}: {plan}");
        }
    }
}
