//! ListWaitpoints: the request into a query, each token into a `Waitpoint` without its output.

use runview_core::Error;
use runview_core::filter::WaitpointAttributes;
use runview_core::ids::WaitpointId;
use runview_core::page::page_size;
use runview_core::presenter::{ListWaitpointsQuery, WaitpointListPage};
use runview_core::waitpoint::WaitpointStatus;

use super::waitpoint::{listed_waitpoint, waitpoint_status};
use super::{
    environment_id, filter_value, filter_values, list_length, status_filter_mode, time_filter,
};
use crate::proto as pb;

impl TryFrom<pb::ListWaitpointsRequest> for ListWaitpointsQuery {
    type Error = Error;

    fn try_from(request: pb::ListWaitpointsRequest) -> Result<Self, Error> {
        list_length("statuses", request.statuses.len())?;
        let statuses = request
            .statuses
            .iter()
            .enumerate()
            .map(|(index, value)| {
                token_status(*value).ok_or_else(|| {
                    Error::invalid_argument(
                        format!("statuses[{index}]"),
                        format!("{value} is not a waitpoint token status"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let idempotency_key = request
            .idempotency_key
            .map(|key| filter_value("idempotency_key", &key).map(|()| key))
            .transpose()?;
        let waitpoint_id = request
            .waitpoint_id
            .map(|id| {
                WaitpointId::parse(&id).map_err(|e| Error::invalid_argument("waitpoint_id", e))
            })
            .transpose()?;
        Ok(Self {
            environment_id: environment_id(&request.environment_id)?,
            page_size: page_size(request.page_size)?,
            page_token: Some(request.page_token).filter(|token| !token.is_empty()),
            statuses,
            status_filter_mode: status_filter_mode(request.status_filter_mode)?,
            time: time_filter(
                request.created_after,
                request.created_before,
                request.period,
            )?,
            attributes: WaitpointAttributes {
                tags: filter_values("tags", request.tags)?,
                idempotency_key,
                waitpoint_id,
            },
        })
    }
}

impl From<WaitpointListPage> for pb::ListWaitpointsResponse {
    fn from(list: WaitpointListPage) -> Self {
        Self {
            waitpoints: list.page.items.into_iter().map(listed_waitpoint).collect(),
            next_page_token: list.page.next_page_token.unwrap_or_default(),
            previous_page_token: list.page.previous_page_token.unwrap_or_default(),
            has_any_tokens: list.has_any_tokens,
        }
    }
}

fn token_status(value: i32) -> Option<WaitpointStatus> {
    WaitpointStatus::ALL
        .into_iter()
        .find(|status| waitpoint_status(*status) as i32 == value)
}

#[cfg(test)]
mod tests {
    use runview_core::status::StatusFilterMode;

    use super::*;

    fn request() -> pb::ListWaitpointsRequest {
        pb::ListWaitpointsRequest {
            environment_id: "cm0env0000000000000000001".into(),
            ..pb::ListWaitpointsRequest::default()
        }
    }

    fn refused_field(request: pb::ListWaitpointsRequest) -> String {
        match ListWaitpointsQuery::try_from(request) {
            Err(Error::InvalidArgument { violations, .. }) => violations[0].field.clone(),
            other => panic!("expected INVALID_ARGUMENT, got {other:?}"),
        }
    }

    #[test]
    fn every_filter_converts() {
        let query = ListWaitpointsQuery::try_from(pb::ListWaitpointsRequest {
            statuses: vec![
                pb::WaitpointStatus::TimedOut as i32,
                pb::WaitpointStatus::Waiting as i32,
            ],
            status_filter_mode: pb::StatusFilterMode::Complete as i32,
            idempotency_key: Some("order-42".into()),
            tags: vec!["user:1".into()],
            waitpoint_id: Some("waitpoint_cwait00000000000000000001".into()),
            page_size: 500,
            ..request()
        })
        .expect("valid");
        assert_eq!(
            query.statuses,
            [WaitpointStatus::TimedOut, WaitpointStatus::Waiting]
        );
        assert_eq!(query.status_filter_mode, StatusFilterMode::Complete);
        assert_eq!(query.page_size, 100);
        assert_eq!(
            query.attributes.idempotency_key.as_deref(),
            Some("order-42")
        );
        assert_eq!(
            query
                .attributes
                .waitpoint_id
                .as_ref()
                .map(WaitpointId::as_str),
            Some("cwait00000000000000000001")
        );
    }

    #[test]
    fn bad_values_name_their_field() {
        let unspecified = pb::ListWaitpointsRequest {
            statuses: vec![pb::WaitpointStatus::Waiting as i32, 0],
            ..request()
        };
        assert_eq!(refused_field(unspecified), "statuses[1]");
        let unknown = pb::ListWaitpointsRequest {
            statuses: vec![42],
            ..request()
        };
        assert_eq!(refused_field(unknown), "statuses[0]");
        let key = pb::ListWaitpointsRequest {
            idempotency_key: Some("a\0b".into()),
            ..request()
        };
        assert_eq!(refused_field(key), "idempotency_key");
        let id = pb::ListWaitpointsRequest {
            waitpoint_id: Some("run_cwait0000000000000000001".into()),
            ..request()
        };
        assert_eq!(refused_field(id), "waitpoint_id");
        let mode = pb::ListWaitpointsRequest {
            status_filter_mode: 9,
            ..request()
        };
        assert_eq!(refused_field(mode), "status_filter_mode");
        let negative = pb::ListWaitpointsRequest {
            page_size: -1,
            ..request()
        };
        assert_eq!(refused_field(negative), "page_size");
    }
}
