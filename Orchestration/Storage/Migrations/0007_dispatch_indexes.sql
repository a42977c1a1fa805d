-- The dispatcher claims rows with no queue entry that are pending or (handed back by the stale
-- sweep) processing. The index from 0001 covered pending rows only, so the planner could not use it
-- and every claim scanned the whole jobs table: 6.4 ms of Postgres time per claim at 15 000 rows,
-- growing with the table (bench/JobsBench --diagnose).
DROP INDEX IF EXISTS jobs_undispatched;
CREATE INDEX jobs_undispatched ON jobs (created_at) WHERE hangfire_job_id IS NULL AND status IN ('pending', 'processing');

-- The stale sweep (every few seconds in each Worker) finds pending jobs by their Hangfire job id to
-- spot queue entries fetched but never started; pending rows are few, so the index stays small.
CREATE INDEX IF NOT EXISTS jobs_pending_by_hangfire_job ON jobs (hangfire_job_id) WHERE status = 'pending';
