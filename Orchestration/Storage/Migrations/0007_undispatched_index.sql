-- The dispatcher claims rows with no queue entry that are pending or (handed back by the stale
-- sweep) processing. The index from 0001 covered pending rows only, so the planner could not use it
-- and every claim scanned the whole jobs table: 6.4 ms of Postgres time per claim at 15 000 rows,
-- growing with the table (bench/JobsBench --diagnose).
DROP INDEX IF EXISTS jobs_undispatched;
CREATE INDEX jobs_undispatched ON jobs (created_at) WHERE hangfire_job_id IS NULL AND status IN ('pending', 'processing');
