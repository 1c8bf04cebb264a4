//! The ReadService adapter: proto → query, presenter, view → proto. No rules live here; the
//! RPC's span is the edge's.

use std::future::Future;
use std::time::Duration;

use runview_controlplane::ControlPlaneResolver;
use runview_core::Error;
use runview_core::presenter::{
    GetBatch, GetRun, GetWaitpoint, ListBatches, ListRuns, ListWaitpoints,
};
use runview_store::RunOpsTopology;
use tonic::{Request, Response, Status};

use super::deadline::Deadline;
use super::panics;
use super::status::to_status;
use crate::proto as pb;

/// The presenters over the concrete stores and resolver. The concurrency limit and the count of
/// outcomes are the edge's (see `Edge`), which sees requests before their bodies are decoded.
pub struct ReadAdapter {
    pub get_run: GetRun<RunOpsTopology, ControlPlaneResolver>,
    pub list_runs: ListRuns<RunOpsTopology, ControlPlaneResolver>,
    pub get_waitpoint: GetWaitpoint<RunOpsTopology, ControlPlaneResolver>,
    pub get_batch: GetBatch<RunOpsTopology, ControlPlaneResolver>,
    pub list_batches: ListBatches<RunOpsTopology, ControlPlaneResolver>,
    pub list_waitpoints: ListWaitpoints<RunOpsTopology, ControlPlaneResolver>,
    /// The longest any request may run, whatever deadline its caller set.
    pub request_timeout: Duration,
    /// How long before the caller's deadline work stops and DEADLINE_EXCEEDED is answered.
    pub deadline_margin: Duration,
}

impl ReadAdapter {
    /// Every RPC has the same shape: convert, present within the caller's deadline, convert back.
    async fn serve<P, Q, V, R, F>(
        &self,
        request: Request<P>,
        present: impl FnOnce(Q) -> F,
    ) -> Result<Response<R>, Status>
    where
        Q: TryFrom<P, Error = Error>,
        F: Future<Output = Result<V, Error>>,
        R: From<V>,
    {
        let deadline = Deadline::from_metadata(
            request.metadata(),
            self.request_timeout,
            self.deadline_margin,
        );
        let answer = panics::contain(async move {
            let query = Q::try_from(request.into_inner())?;
            present(query).await
        });
        deadline
            .run(answer)
            .await
            .map(|view| Response::new(R::from(view)))
            .map_err(to_status)
    }
}

#[tonic::async_trait]
impl pb::read_service_server::ReadService for ReadAdapter {
    async fn get_run(
        &self,
        request: Request<pb::GetRunRequest>,
    ) -> Result<Response<pb::Run>, Status> {
        self.serve(request, |query| self.get_run.present(query))
            .await
    }

    async fn list_runs(
        &self,
        request: Request<pb::ListRunsRequest>,
    ) -> Result<Response<pb::ListRunsResponse>, Status> {
        self.serve(request, |query| self.list_runs.present(query))
            .await
    }

    async fn get_waitpoint(
        &self,
        request: Request<pb::GetWaitpointRequest>,
    ) -> Result<Response<pb::Waitpoint>, Status> {
        self.serve(request, |query| self.get_waitpoint.present(query))
            .await
    }

    async fn list_batches(
        &self,
        request: Request<pb::ListBatchesRequest>,
    ) -> Result<Response<pb::ListBatchesResponse>, Status> {
        self.serve(request, |query| self.list_batches.present(query))
            .await
    }

    async fn list_waitpoints(
        &self,
        request: Request<pb::ListWaitpointsRequest>,
    ) -> Result<Response<pb::ListWaitpointsResponse>, Status> {
        self.serve(request, |query| self.list_waitpoints.present(query))
            .await
    }

    async fn get_batch(
        &self,
        request: Request<pb::GetBatchRequest>,
    ) -> Result<Response<pb::Batch>, Status> {
        self.serve(request, |query| self.get_batch.present(query))
            .await
    }
}
