// The webapp's client, grpc-js, calling GetRun with a deadline. Prints how the call ended as one
// JSON line: the status code, its details, and whether runview sent that status (runview attaches
// rich error details; a status grpc-js makes up itself, as for its own timeout, carries none).
//
// Usage: node get_run_with_deadline.js ADDRESS ENVIRONMENT_ID RUN_ID DEADLINE_MS
"use strict";

const path = require("node:path");
const grpc = require("@grpc/grpc-js");
const protoLoader = require("@grpc/proto-loader");

const [address, environmentId, runId, deadlineMs] = process.argv.slice(2);
const definition = protoLoader.loadSync("runview/v1/read_service.proto", {
  includeDirs: [path.join(__dirname, "..", "..", "proto")],
  keepCase: true,
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
});
const { runview } = grpc.loadPackageDefinition(definition);
const client = new runview.v1.ReadService(address, grpc.credentials.createInsecure());

client.GetRun(
  { environment_id: environmentId, run_id: runId },
  new grpc.Metadata(),
  { deadline: Date.now() + Number(deadlineMs) },
  (error) => {
    const outcome = error
      ? {
          code: error.code,
          details: error.details,
          from_server: error.metadata.get("grpc-status-details-bin").length > 0,
        }
      : { code: grpc.status.OK };
    console.log(JSON.stringify(outcome));
    client.close();
  },
);
