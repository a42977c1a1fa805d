-- Who did what to keys, limits and jobs, and every dashboard login. Rows are only ever added: the
-- trigger below refuses UPDATE, DELETE and TRUNCATE from any session that does not first disable it
-- on purpose (which takes the table's owner, and shows in the server log).
CREATE TABLE audit_log (
    id             bigserial   PRIMARY KEY,
    occurred_at    timestamptz NOT NULL,
    actor_key_id   uuid        NULL,     -- NULL for the system (start-up) and for unknown keys
    actor_prefix   text        NOT NULL, -- the key's public prefix, or 'system'
    action         text        NOT NULL,
    target         text        NOT NULL,
    details        jsonb       NOT NULL DEFAULT '{}'::jsonb, -- never a key or customer content
    client_address text        NULL,     -- the address the request came from
    forwarded_for  text        NULL      -- the address a trusted caller (the dashboard) says it acts for
);

CREATE INDEX audit_log_action ON audit_log (action, id DESC);
CREATE INDEX audit_log_actor ON audit_log (actor_key_id, id DESC) WHERE actor_key_id IS NOT NULL;

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();

-- The key configured as Admin:BootstrapKey is marked, so that a start with another key can revoke the
-- previous one (rotation) and the Api can refuse to revoke the current one. Keys stored by the
-- bootstrap before this column existed carry its fixed name; marking them lets the first start after
-- this migration revoke those that are no longer configured.
ALTER TABLE api_keys ADD COLUMN is_bootstrap boolean NOT NULL DEFAULT false;
UPDATE api_keys SET is_bootstrap = true WHERE name = 'bootstrap admin' AND is_admin AND revoked_at IS NULL;

-- The limits a tenant's new keys get when the create request does not set them. A tenant without a
-- row gets the configured global defaults (ApiKeys:DefaultLimits); NULL columns mean no limit.
CREATE TABLE tenant_key_defaults (
    tenant_id            text          PRIMARY KEY,
    requests_per_minute  integer       NULL CHECK (requests_per_minute > 0),
    tokens_per_minute    integer       NULL CHECK (tokens_per_minute > 0),
    daily_token_budget   bigint        NULL CHECK (daily_token_budget > 0),
    monthly_token_budget bigint        NULL CHECK (monthly_token_budget > 0),
    daily_cost_budget    numeric(18,6) NULL CHECK (daily_cost_budget > 0),
    monthly_cost_budget  numeric(18,6) NULL CHECK (monthly_cost_budget > 0),
    updated_at           timestamptz   NOT NULL
);
