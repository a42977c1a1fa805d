-- Batch items carry their provider cost, so a batch charges what its items really cost, also
-- across reruns that keep items finished earlier.
ALTER TABLE job_items ADD COLUMN cost numeric(18,8) NOT NULL DEFAULT 0;
