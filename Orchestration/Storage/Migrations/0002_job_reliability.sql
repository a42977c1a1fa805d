-- Each key signs its webhooks with its own secret (shown to its owner, never logged).
ALTER TABLE api_keys ADD COLUMN webhook_secret text NOT NULL
    DEFAULT encode(sha256((gen_random_uuid()::text || gen_random_uuid()::text)::bytea), 'hex');

ALTER TABLE jobs ADD COLUMN webhook_url text NULL;
-- Set by POST /cancel while the job runs; the worker running it observes it within a second.
ALTER TABLE jobs ADD COLUMN cancel_requested_at timestamptz NULL;
-- Which worker process runs (or last ran) the job, for operators and for fault tests.
ALTER TABLE jobs ADD COLUMN worker text NULL;
-- Bumped when an admin retries a finished job: each run may be charged and notified once.
ALTER TABLE jobs ADD COLUMN run integer NOT NULL DEFAULT 1;

ALTER TABLE usage_ledger ADD COLUMN run integer NOT NULL DEFAULT 1;
ALTER TABLE usage_ledger DROP CONSTRAINT usage_ledger_job_id_key;
CREATE UNIQUE INDEX usage_ledger_job_run ON usage_ledger (job_id, run) WHERE job_id IS NOT NULL;

-- Batch items: a finished item is kept, so a batch that is re-run after a crash does not redo it.
CREATE TABLE job_items (
    job_id        uuid        NOT NULL REFERENCES jobs (id),
    run           integer     NOT NULL,
    item_index    integer     NOT NULL,
    status        text        NOT NULL CHECK (status IN ('completed', 'failed')),
    result        jsonb       NULL,
    error         jsonb       NULL,
    input_tokens  integer     NOT NULL DEFAULT 0,
    output_tokens integer     NOT NULL DEFAULT 0,
    completed_at  timestamptz NOT NULL,
    PRIMARY KEY (job_id, run, item_index)
);

-- Webhook outbox: written in the same transaction as the job's terminal state, so a notification is
-- never lost and never queued twice for one run.
CREATE TABLE webhook_deliveries (
    job_id          uuid        NOT NULL REFERENCES jobs (id),
    run             integer     NOT NULL,
    url             text        NOT NULL,
    payload         jsonb       NOT NULL,
    status          text        NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    lease_until     timestamptz NULL,
    created_at      timestamptz NOT NULL,
    delivered_at    timestamptz NULL,
    PRIMARY KEY (job_id, run)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';

CREATE TABLE webhook_attempts (
    id          bigserial   PRIMARY KEY,
    job_id      uuid        NOT NULL,
    run         integer     NOT NULL,
    attempt     integer     NOT NULL,
    at          timestamptz NOT NULL,
    status_code integer     NULL,
    error       text        NULL,
    duration_ms integer     NOT NULL
);
CREATE INDEX webhook_attempts_job ON webhook_attempts (job_id, run);
