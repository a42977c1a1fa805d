-- What each key may do: which model aliases, how fast, how much per day and month. NULL means no
-- limit of that kind. Tenant-wide rate limits apply across all of a tenant's keys.
ALTER TABLE api_keys
    ADD COLUMN allowed_models       text[]        NULL,
    ADD COLUMN requests_per_minute  integer       NULL CHECK (requests_per_minute > 0),
    ADD COLUMN tokens_per_minute    integer       NULL CHECK (tokens_per_minute > 0),
    ADD COLUMN daily_token_budget   bigint        NULL CHECK (daily_token_budget > 0),
    ADD COLUMN monthly_token_budget bigint        NULL CHECK (monthly_token_budget > 0),
    ADD COLUMN daily_cost_budget    numeric(18,6) NULL CHECK (daily_cost_budget > 0),
    ADD COLUMN monthly_cost_budget  numeric(18,6) NULL CHECK (monthly_cost_budget > 0);

CREATE TABLE tenant_limits (
    tenant_id           text        PRIMARY KEY,
    requests_per_minute integer     NULL CHECK (requests_per_minute > 0),
    tokens_per_minute   integer     NULL CHECK (tokens_per_minute > 0),
    updated_at          timestamptz NOT NULL
);
