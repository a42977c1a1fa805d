-- Customer content is sealed by the services (AES-256-GCM, Orchestration/Encryption) before it
-- reaches the database: job inputs and results, batch item results, webhook bodies and the webhook
-- signing secrets become bytea. The plaintext columns are renamed legacy_* and kept only until the
-- migrations step (Worker migrate, which has the key) has sealed the rows written before this
-- version and emptied them; a later migration drops them. Nothing else reads them.
ALTER TABLE jobs RENAME COLUMN input TO legacy_input;
ALTER TABLE jobs ALTER COLUMN legacy_input DROP NOT NULL;
ALTER TABLE jobs RENAME COLUMN result TO legacy_result;
ALTER TABLE jobs ADD COLUMN input bytea NULL, ADD COLUMN result bytea NULL;
-- When the job's content was erased (DELETE /v1/jobs/{id} or the retention purge). The row keeps
-- its metadata, and the usage ledger keeps its rows.
ALTER TABLE jobs ADD COLUMN content_erased_at timestamptz NULL;
ALTER TABLE jobs ADD CONSTRAINT jobs_input_present
    CHECK (input IS NOT NULL OR legacy_input IS NOT NULL OR content_erased_at IS NOT NULL);

ALTER TABLE job_items RENAME COLUMN result TO legacy_result;
ALTER TABLE job_items ADD COLUMN result bytea NULL;

ALTER TABLE webhook_deliveries RENAME COLUMN payload TO legacy_payload;
ALTER TABLE webhook_deliveries ALTER COLUMN legacy_payload DROP NOT NULL;
ALTER TABLE webhook_deliveries ADD COLUMN payload bytea NULL;

-- The signing secret is made (and sealed) by the services on first use, no longer by a default here.
ALTER TABLE api_keys RENAME COLUMN webhook_secret TO legacy_webhook_secret;
ALTER TABLE api_keys ALTER COLUMN legacy_webhook_secret DROP NOT NULL, ALTER COLUMN legacy_webhook_secret DROP DEFAULT;
ALTER TABLE api_keys ADD COLUMN webhook_secret bytea NULL;

-- The retention purge looks for finished jobs whose content is still there, oldest first.
CREATE INDEX jobs_content_retention ON jobs (completed_at) WHERE content_erased_at IS NULL AND completed_at IS NOT NULL;
