//! The CacheService adapter: the webapp tells runview that control-plane data changed.

use std::sync::Arc;

use runview_controlplane::{ControlPlaneResolver, InvalidationScope};
use runview_core::Error;
use runview_core::ids::EnvironmentId;
use tonic::{Request, Response, Status};

use super::status::to_status;
use crate::proto as pb;
use crate::proto::invalidate_request::Scope;

pub struct CacheAdapter {
    pub resolver: Arc<ControlPlaneResolver>,
}

fn scope(request: pb::InvalidateRequest) -> Result<InvalidationScope, Error> {
    let non_empty = |field: &str, id: String| {
        EnvironmentId::parse(&id)
            .map(|_| id)
            .map_err(|e| Error::invalid_argument(field, e))
    };
    match request.scope {
        Some(Scope::EnvironmentId(id)) => {
            non_empty("environment_id", id).map(InvalidationScope::Environment)
        }
        Some(Scope::OrganizationId(id)) => {
            non_empty("organization_id", id).map(InvalidationScope::Organization)
        }
        Some(Scope::All(true)) => Ok(InvalidationScope::All),
        Some(Scope::All(false)) | None => Err(Error::invalid_argument(
            "scope",
            "set environment_id, organization_id or all = true",
        )),
    }
}

#[tonic::async_trait]
impl pb::cache_service_server::CacheService for CacheAdapter {
    /// Drops the local entries first (the answer waits for that), then tells every other replica.
    async fn invalidate(
        &self,
        request: Request<pb::InvalidateRequest>,
    ) -> Result<Response<pb::InvalidateResponse>, Status> {
        let result = match scope(request.into_inner()) {
            Ok(scope) => {
                self.resolver.invalidate(&scope);
                self.resolver.publish(&scope).await
            }
            Err(error) => Err(error),
        };
        result
            .map(|()| Response::new(pb::InvalidateResponse {}))
            .map_err(to_status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(scope_value: Option<Scope>) -> String {
        match scope(pb::InvalidateRequest { scope: scope_value }) {
            Err(Error::InvalidArgument { violations, .. }) => violations[0].field.clone(),
            other => panic!("expected INVALID_ARGUMENT, got {other:?}"),
        }
    }

    #[test]
    fn every_scope_becomes_its_invalidation() {
        let environment = scope(pb::InvalidateRequest {
            scope: Some(Scope::EnvironmentId("env_1".into())),
        });
        assert!(matches!(environment, Ok(InvalidationScope::Environment(id)) if id == "env_1"));
        let organization = scope(pb::InvalidateRequest {
            scope: Some(Scope::OrganizationId("org_1".into())),
        });
        assert!(matches!(organization, Ok(InvalidationScope::Organization(id)) if id == "org_1"));
        assert!(matches!(
            scope(pb::InvalidateRequest {
                scope: Some(Scope::All(true))
            }),
            Ok(InvalidationScope::All)
        ));
    }

    #[test]
    fn a_missing_or_empty_scope_is_refused() {
        assert_eq!(field_of(None), "scope");
        assert_eq!(field_of(Some(Scope::All(false))), "scope");
        assert_eq!(
            field_of(Some(Scope::EnvironmentId(String::new()))),
            "environment_id"
        );
        assert_eq!(
            field_of(Some(Scope::OrganizationId("a b".into()))),
            "organization_id"
        );
    }
}
