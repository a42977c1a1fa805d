-- Agent tasks are jobs of kind 'agent'; this is what an agent needs beside its job row.

-- The agent tools a key may call (NULL: every tool its agents have), like allowed_models.
ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS allowed_tools text[] NULL;

-- One row per agent task: its checkpoint and the question it waits on.
--   state          sealed checkpoint: messages, step, usage so far, the events of the last step
--   version        bumped by every checkpoint (a run that lost its job cannot overwrite a newer one)
--   request_id     the pending ask_user question, while the task waits for a person
--   answer         the person's answer (sealed), until the task reads it
--   waiting_since  when the question was asked (input timeout)
--   attached_until while a WebSocket session watches the task, renewed by its Api replica; once it
--                  passes (the client left and did not resume in the grace period) the task is cancelled
CREATE TABLE IF NOT EXISTS agent_tasks (
    job_id         uuid        PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    state          bytea       NULL,
    version        integer     NOT NULL DEFAULT 0,
    request_id     text        NULL,
    answer         bytea       NULL,
    waiting_since  timestamptz NULL,
    attached_until timestamptz NULL,
    updated_at     timestamptz NOT NULL
);

-- The detach sweep looks only at tasks some session attached to.
CREATE INDEX IF NOT EXISTS agent_tasks_attached ON agent_tasks (attached_until) WHERE attached_until IS NOT NULL;
