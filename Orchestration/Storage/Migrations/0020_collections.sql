-- Retrieval: collections of documents, their chunks with embeddings and keyed full-text lexemes.
-- Postgres is the source of truth; the vector index (Redis vector sets) is rebuilt from here.
CREATE TABLE collections (
    id uuid PRIMARY KEY,
    tenant_id text NOT NULL,
    name text NOT NULL,
    embedding_model text NOT NULL,          -- the alias callers named
    embedding_model_id text NOT NULL,       -- the model it resolved to: vectors of another model do not mix
    dimensions int NOT NULL,
    chunk_size int NOT NULL,
    chunk_overlap int NOT NULL,
    lexeme_key_id text NOT NULL,            -- the content key its lexeme hashes were made with
    index_generation int NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL,
    UNIQUE (tenant_id, name)
);

CREATE TABLE collection_documents (
    collection_id uuid NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    id text NOT NULL,
    title bytea,                            -- sealed
    content_type text NOT NULL,
    content bytea NOT NULL,                 -- sealed: the extracted text
    version int NOT NULL,
    indexed_version int,
    status text NOT NULL,                   -- pending, indexed, failed
    job_id uuid,
    chunk_count int NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (collection_id, id)
);

CREATE TABLE collection_chunks (
    id uuid PRIMARY KEY,
    collection_id uuid NOT NULL,
    document_id text NOT NULL,
    position int NOT NULL,
    content_hash bytea NOT NULL,            -- keyed hash (tenant, model, text): finds reusable embeddings
    text bytea NOT NULL,                    -- sealed
    embedding bytea NOT NULL,               -- sealed float32 vector
    lexemes tsvector NOT NULL,              -- keyed hashes of the text's lexemes, with positions
    created_at timestamptz NOT NULL,
    FOREIGN KEY (collection_id, document_id) REFERENCES collection_documents (collection_id, id) ON DELETE CASCADE,
    UNIQUE (collection_id, document_id, position)
);

CREATE INDEX collection_chunks_lexemes ON collection_chunks USING gin (lexemes);
CREATE INDEX collection_chunks_hash ON collection_chunks (collection_id, content_hash);
