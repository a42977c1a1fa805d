-- Server-side chat history, so that any Api replica can serve a conversation's next turn. Message
-- contents are encrypted by the Api (AES-256-GCM) before they reach the database.
CREATE TABLE conversations (
    id          uuid        PRIMARY KEY,
    tenant_id   text        NOT NULL,
    api_key_id  uuid        NOT NULL REFERENCES api_keys (id),
    model       text        NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);

CREATE INDEX conversations_tenant ON conversations (tenant_id, updated_at DESC);

CREATE TABLE conversation_messages (
    conversation_id uuid        NOT NULL REFERENCES conversations (id),
    seq             integer     NOT NULL,
    role            text        NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
    content         bytea       NOT NULL,
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);
