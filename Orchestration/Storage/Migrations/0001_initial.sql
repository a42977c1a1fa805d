-- API keys: only a SHA-256 hash of the key is stored, with a short public prefix to identify it.
CREATE TABLE api_keys (
    id          uuid PRIMARY KEY,
    tenant_id   text        NOT NULL,
    name        text        NOT NULL,
    prefix      text        NOT NULL,
    key_hash    bytea       NOT NULL UNIQUE,
    is_admin    boolean     NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL,
    revoked_at  timestamptz NULL
);

-- Jobs: the row is the durable record of the work; Hangfire holds only its id.
CREATE TABLE jobs (
    id               uuid PRIMARY KEY,
    tenant_id        text        NOT NULL,
    api_key_id       uuid        NOT NULL REFERENCES api_keys (id),
    kind             text        NOT NULL,
    status           text        NOT NULL CHECK (status IN ('pending', 'processing', 'completed', 'failed', 'cancelled')),
    progress         integer     NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    current_step     text        NULL,
    steps            jsonb       NOT NULL DEFAULT '[]'::jsonb,
    input            jsonb       NOT NULL,
    result           jsonb       NULL,
    error            jsonb       NULL,
    usage            jsonb       NULL,
    attempts         integer     NOT NULL DEFAULT 0,
    idempotency_key  text        NULL,
    request_hash     bytea       NOT NULL,
    hangfire_job_id  text        NULL,
    created_at       timestamptz NOT NULL,
    started_at       timestamptz NULL,
    completed_at     timestamptz NULL,
    updated_at       timestamptz NOT NULL
);

-- Idempotency keys are scoped to the caller's API key.
CREATE UNIQUE INDEX jobs_idempotency ON jobs (api_key_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_tenant_created ON jobs (tenant_id, created_at DESC);
CREATE INDEX jobs_created ON jobs (created_at DESC);
-- The dispatcher's scan for rows whose enqueue did not happen (process died between the two).
CREATE INDEX jobs_undispatched ON jobs (created_at) WHERE hangfire_job_id IS NULL AND status = 'pending';

-- Usage and cost ledger: one row per charged call. A job can be charged once (unique job_id),
-- however many times at-least-once delivery runs it.
CREATE TABLE usage_ledger (
    id             bigserial PRIMARY KEY,
    tenant_id      text          NOT NULL,
    api_key_id     uuid          NOT NULL,
    job_id         uuid          NULL UNIQUE REFERENCES jobs (id),
    model_alias    text          NOT NULL,
    provider_model text          NOT NULL,
    input_tokens   integer       NOT NULL,
    output_tokens  integer       NOT NULL,
    cost           numeric(18,8) NOT NULL DEFAULT 0,
    created_at     timestamptz   NOT NULL
);
CREATE INDEX usage_ledger_tenant_created ON usage_ledger (tenant_id, created_at);
