-- Each dispatch of a job gets its own id, passed to the Hangfire job. A run starts only when its
-- dispatch id is the job's current one, so a stale Hangfire job (left from an earlier dispatch, an
-- admin retry or a rolled-back dispatch) can never run beside the current one.
ALTER TABLE jobs ADD COLUMN dispatch_id uuid NULL;
