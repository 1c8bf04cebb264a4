//! Hydration helpers: the distinct control-plane keys of a page, and the caller's environment.

use std::collections::HashSet;
use std::sync::Arc;

use crate::control_plane::Environment;
use crate::error::{Error, Resource, Result};
use crate::ids::EnvironmentId;
use crate::ports::ControlPlane;

/// The caller's environment; every record of a list belongs to it, so one key serves the page.
pub(crate) async fn caller_environment<C: ControlPlane>(
    control_plane: &C,
    environment_id: &EnvironmentId,
) -> Result<Arc<Environment>> {
    control_plane
        .environments(vec![environment_id.as_str().to_owned()])
        .await?
        .remove(environment_id.as_str())
        .ok_or_else(|| Error::not_found(Resource::Environment, environment_id.as_str()))
}

/// The environment of a record found in the caller's environment. An environment the control
/// plane does not know holds nothing the caller may see, so its absence is the record's:
/// `record_not_found`.
pub(crate) async fn record_environment<C: ControlPlane>(
    control_plane: &C,
    environment_id: &EnvironmentId,
    record_not_found: impl FnOnce() -> Error,
) -> Result<Arc<Environment>> {
    caller_environment(control_plane, environment_id)
        .await
        .map_err(|error| match error {
            Error::NotFound { .. } => record_not_found(),
            other => other,
        })
}

/// The distinct non-empty keys, in the order first seen, ready for one batched resolution.
pub(crate) fn distinct_keys<'a>(keys: impl IntoIterator<Item = Option<&'a str>>) -> Vec<String> {
    let mut seen = HashSet::new();
    keys.into_iter()
        .flatten()
        .filter(|key| seen.insert(*key))
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_deduplicated_in_first_seen_order() {
        let keys = distinct_keys([Some("b"), None, Some("a"), Some("b")]);
        assert_eq!(keys, ["b", "a"]);
    }
}
