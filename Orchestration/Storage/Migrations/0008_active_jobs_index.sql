-- The stale sweep (every few seconds, per job kind, in each Worker) looks for pending and processing
-- jobs that stopped moving. No index covered processing rows, so each sweep scanned the whole jobs
-- table, finished jobs included: 11 ms a sweep at 100 000 rows (bench/JobsBench --diagnose), and
-- growing with the table for ever. Active jobs are few, so this index stays small.
CREATE INDEX IF NOT EXISTS jobs_active ON jobs (kind, updated_at) WHERE status IN ('pending', 'processing');
