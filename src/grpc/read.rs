//! The ReadService adapter: span, proto → query, presenter, view → proto. No rules live here.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use runview_controlplane::ControlPlaneResolver;
use runview_core::Error;
use runview_core::presenter::{GetRun, GetWaitpoint, ListBatches, ListRuns};
use runview_store::RunOpsTopology;
use tokio::sync::Semaphore;
use tonic::{Request, Response, Status};

use super::deadline::Deadline;
use super::panics;
use super::status::to_status;
use crate::proto as pb;
use crate::{metrics, telemetry};

/// The presenters over the concrete stores and resolver, behind a concurrency limit.
pub struct ReadAdapter {
    pub get_run: GetRun<RunOpsTopology, ControlPlaneResolver>,
    pub list_runs: ListRuns<RunOpsTopology, ControlPlaneResolver>,
    pub get_waitpoint: GetWaitpoint<RunOpsTopology, ControlPlaneResolver>,
    pub list_batches: ListBatches<RunOpsTopology, ControlPlaneResolver>,
    /// Requests in flight beyond its permits are shed at once rather than queued.
    pub in_flight: Arc<Semaphore>,
    /// The longest any request may run, whatever deadline its caller set.
    pub request_timeout: Duration,
}

impl ReadAdapter {
    /// Every RPC has the same shape: admit, convert, present within the caller's deadline,
    /// convert back, and count the outcome.
    async fn serve<P, Q, V, R, F>(
        &self,
        method: &'static str,
        request: Request<P>,
        present: impl FnOnce(Q) -> F,
    ) -> Result<Response<R>, Status>
    where
        Q: TryFrom<P, Error = Error>,
        F: Future<Output = Result<V, Error>>,
        R: From<V>,
    {
        let started = Instant::now();
        telemetry::adopt_remote_parent(request.metadata());
        let result = match self.in_flight.try_acquire() {
            Ok(_permit) => {
                let deadline = Deadline::from_metadata(request.metadata(), self.request_timeout);
                let answer = panics::contain(async move {
                    let query = Q::try_from(request.into_inner())?;
                    present(query).await
                });
                deadline.run(answer).await.map(R::from)
            }
            Err(_) => Err(Error::Overloaded),
        };
        let result = result.map(Response::new).map_err(to_status);
        let code = result
            .as_ref()
            .map_or_else(Status::code, |_| tonic::Code::Ok);
        metrics::record_request(method, code, started.elapsed());
        result
    }
}

#[tonic::async_trait]
impl pb::read_service_server::ReadService for ReadAdapter {
    #[tracing::instrument(name = "GetRun", skip_all)]
    async fn get_run(
        &self,
        request: Request<pb::GetRunRequest>,
    ) -> Result<Response<pb::Run>, Status> {
        self.serve("GetRun", request, |query| self.get_run.present(query))
            .await
    }

    #[tracing::instrument(name = "ListRuns", skip_all)]
    async fn list_runs(
        &self,
        request: Request<pb::ListRunsRequest>,
    ) -> Result<Response<pb::ListRunsResponse>, Status> {
        self.serve("ListRuns", request, |query| self.list_runs.present(query))
            .await
    }

    #[tracing::instrument(name = "GetWaitpoint", skip_all)]
    async fn get_waitpoint(
        &self,
        request: Request<pb::GetWaitpointRequest>,
    ) -> Result<Response<pb::Waitpoint>, Status> {
        self.serve("GetWaitpoint", request, |query| {
            self.get_waitpoint.present(query)
        })
        .await
    }

    #[tracing::instrument(name = "ListBatches", skip_all)]
    async fn list_batches(
        &self,
        request: Request<pb::ListBatchesRequest>,
    ) -> Result<Response<pb::ListBatchesResponse>, Status> {
        self.serve("ListBatches", request, |query| {
            self.list_batches.present(query)
        })
        .await
    }
}
