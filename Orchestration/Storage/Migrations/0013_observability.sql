-- Observability (issue 14): one trace from request to result, usage that covers gateway calls, and
-- the per-minute rollups the dashboard and the Api's admin endpoints read.

-- The W3C trace context of the request that created (or an operator's that retried) the job: the
-- Worker starts the job's spans from it, so an OTLP backend shows POST /v1/jobs → dispatch → run →
-- every model call as one trace.
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS trace_parent text NULL, ADD COLUMN IF NOT EXISTS trace_state text NULL;

-- The operators' job list filters by status, kind or tenant (the last has jobs_tenant_created), newest first.
CREATE INDEX IF NOT EXISTS jobs_status_created ON jobs (status, created_at DESC);
CREATE INDEX IF NOT EXISTS jobs_kind_created ON jobs (kind, created_at DESC);

-- The ledger covers synchronous gateway calls too: each Api replica writes one row per key, alias
-- and deployment per minute, with the number of calls it stands for. Job rows stand for one call.
ALTER TABLE usage_ledger ADD COLUMN IF NOT EXISTS requests integer NOT NULL DEFAULT 1,
                         ADD COLUMN IF NOT EXISTS source text NOT NULL DEFAULT 'job';

-- Usage per day, key, alias and deployment (provider_model in the ledger: the deployment that
-- answered), kept by a statement trigger in the inserting transaction, so it is never behind the
-- ledger and never counts a row twice. The usage pages read this: a month for thousands of keys is
-- tens of thousands of rows, not millions.
CREATE TABLE IF NOT EXISTS usage_daily (
    day           date          NOT NULL,
    api_key_id    uuid          NOT NULL,
    model_alias   text          NOT NULL,
    deployment    text          NOT NULL,
    tenant_id     text          NOT NULL,
    requests      bigint        NOT NULL,
    input_tokens  bigint        NOT NULL,
    output_tokens bigint        NOT NULL,
    cost          numeric(20,8) NOT NULL,
    PRIMARY KEY (day, api_key_id, model_alias, deployment)
);
CREATE INDEX IF NOT EXISTS usage_daily_key ON usage_daily (api_key_id, day);
CREATE INDEX IF NOT EXISTS usage_daily_tenant ON usage_daily (tenant_id, day);

CREATE OR REPLACE FUNCTION usage_daily_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Sorted, so two inserting transactions lock shared rows in the same order (no deadlock).
    INSERT INTO usage_daily AS daily (day, api_key_id, model_alias, deployment, tenant_id, requests, input_tokens, output_tokens, cost)
    SELECT (created_at AT TIME ZONE 'UTC')::date, api_key_id, model_alias, provider_model, min(tenant_id),
           sum(requests), sum(input_tokens), sum(output_tokens), sum(cost)
    FROM new_rows
    GROUP BY 1, 2, 3, 4
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (day, api_key_id, model_alias, deployment) DO UPDATE SET
        requests = daily.requests + EXCLUDED.requests,
        input_tokens = daily.input_tokens + EXCLUDED.input_tokens,
        output_tokens = daily.output_tokens + EXCLUDED.output_tokens,
        cost = daily.cost + EXCLUDED.cost;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS usage_ledger_daily ON usage_ledger;
CREATE TRIGGER usage_ledger_daily AFTER INSERT ON usage_ledger
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_daily_add();

-- What the ledger held before this migration.
INSERT INTO usage_daily (day, api_key_id, model_alias, deployment, tenant_id, requests, input_tokens, output_tokens, cost)
SELECT (created_at AT TIME ZONE 'UTC')::date, api_key_id, model_alias, provider_model, min(tenant_id),
       sum(requests), sum(input_tokens), sum(output_tokens), sum(cost)
FROM usage_ledger GROUP BY 1, 2, 3, 4
ON CONFLICT DO NOTHING;

-- The services' own metrics (the instruments they export over OTLP), summed per minute and per hour
-- across every replica: each process aggregates in memory and adds its share every few seconds.
-- dim1..dim3 are the metric's dimensions (README, "Observability"); buckets is a latency histogram
-- with fixed boundaries (Orchestration/Observability/LatencyHistogram.cs), added element-wise.
CREATE TABLE IF NOT EXISTS metric_minutes (
    name    text             NOT NULL,
    bucket  timestamptz      NOT NULL,
    dim1    text             NOT NULL,
    dim2    text             NOT NULL,
    dim3    text             NOT NULL,
    count   bigint           NOT NULL,
    sum     double precision NOT NULL,
    buckets bigint[]         NULL,
    PRIMARY KEY (name, bucket, dim1, dim2, dim3)
);
CREATE TABLE IF NOT EXISTS metric_hours (LIKE metric_minutes INCLUDING ALL);
CREATE INDEX IF NOT EXISTS metric_minutes_bucket ON metric_minutes (bucket);
CREATE INDEX IF NOT EXISTS metric_hours_bucket ON metric_hours (bucket);

CREATE OR REPLACE FUNCTION histogram_add(a bigint[], b bigint[]) RETURNS bigint[] LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN a IS NULL THEN b WHEN b IS NULL THEN a
                ELSE ARRAY(SELECT coalesce(x, 0) + coalesce(y, 0) FROM unnest(a, b) AS pair (x, y)) END
$$;

CREATE OR REPLACE AGGREGATE histogram_sum(bigint[]) (SFUNC = histogram_add, STYPE = bigint[]);
