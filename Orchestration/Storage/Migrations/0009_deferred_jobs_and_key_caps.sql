-- A job that must run again later (a per-minute limit refused it, or a transient fault) waits as a
-- pending row with no queue entry until not_before; the dispatcher takes it when it is due. Its own
-- scheduling instead of Hangfire's retries: a Hangfire retry was re-enqueued on the "default" queue,
-- which no server listens to, so such jobs waited for the 15-minute stale sweep.
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS not_before timestamptz NULL;

-- Each job submission counts the key's pending jobs against its cap; pending rows are few.
CREATE INDEX IF NOT EXISTS jobs_pending_by_key ON jobs (api_key_id) WHERE status = 'pending';
