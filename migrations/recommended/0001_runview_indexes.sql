-- runview's own indexes on the run-ops stores, on top of the upstream's (migrations/full for LEGACY,
-- migrations/runops for NEW); for now the same ones on both. They are optional: runview reads
-- correctly, and every list page stays bounded, on the upstream's indexes alone. The tests, the
-- embedded default and the benchmark do not apply them (runview_localdb::apply_recommended_indexes
-- does, for a measurement); docs/performance.md states what each one gains, measured with and
-- without it. At boot runview logs a warning for each one a store lacks, and serves.
--
-- List pages walk an environment's records in ("createdAt" DESC, id DESC) order from a keyset
-- position `("createdAt", id) < ($t, $id)`. ids are compared in the "C" collation, byte by byte,
-- because runview merges the pages of two stores in Rust and both orders must agree whatever
-- collation a database defaults to. An index serves that order, and bounds the row comparison on
-- both columns, only when its id column has the same collation; with it, a page of any depth is
-- one index range read in index order, with no sort. Without it a page reads the upstream's
-- ("runtimeEnvironmentId", "createdAt" DESC) index in order and sorts only the rows that share a
-- createdAt (crates/runview-store/tests/store/list_plans.rs checks both).
--
-- On a live database, create these with CREATE INDEX CONCURRENTLY (outside a transaction).

-- ListRuns. The upstream's ("runtimeEnvironmentId", "createdAt" DESC) cannot order runs that share
-- a createdAt, so each page sorts them and can only bound createdAt, not the id.
CREATE INDEX IF NOT EXISTS "runview_TaskRun_environment_createdAt_id_idx"
    ON "TaskRun" ("runtimeEnvironmentId", "createdAt" DESC, id COLLATE "C" DESC);

-- ListBatches. The upstream's ("runtimeEnvironmentId", "createdAt" DESC, id DESC) has id in the
-- default collation, which is not "C" as far as the planner knows, even where it sorts alike.
CREATE INDEX IF NOT EXISTS "runview_BatchTaskRun_environment_createdAt_id_idx"
    ON "BatchTaskRun" ("runtimeEnvironmentId", "createdAt" DESC, id COLLATE "C" DESC);
