-- Full-text search prunes a query's very common words. Ranking (ts_rank_cd) reads every matching chunk, so
-- a word held by a large share of a collection made each search grow with the collection. Each collection
-- therefore keeps how many of its chunks hold each lexeme hash, and how many chunks it has. Triggers keep
-- both in the chunks' own transaction, on every path that adds or removes chunks: re-indexing a document,
-- deleting it, deleting the collection (collection_lexemes rows go with it).
ALTER TABLE collections ADD COLUMN chunk_count bigint NOT NULL DEFAULT 0;

CREATE TABLE collection_lexemes (
    collection_id uuid NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    lexeme text NOT NULL,                   -- the keyed hash, as in collection_chunks.lexemes
    chunks int NOT NULL,                    -- how many of the collection's chunks hold it (rows at 0 stay)
    PRIMARY KEY (collection_id, lexeme)
);

CREATE FUNCTION collection_lexemes_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    sign int := CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END;
BEGIN
    -- The collection's row first: it serialises writers of one collection, so two of them never take
    -- lexeme rows crosswise (no deadlocks; the writers lock it before the document, see CollectionStore).
    UPDATE collections c SET chunk_count = c.chunk_count + sign * n.chunks
    FROM (SELECT collection_id, count(*) AS chunks FROM changed GROUP BY collection_id ORDER BY collection_id) n
    WHERE c.id = n.collection_id;
    IF NOT FOUND THEN
        -- The collection itself is being deleted: its counts go with it.
        RETURN NULL;
    END IF;

    IF sign > 0 THEN
        INSERT INTO collection_lexemes (collection_id, lexeme, chunks)
        SELECT k.collection_id, l.lexeme, count(*) FROM changed k, unnest(tsvector_to_array(k.lexemes)) AS l (lexeme)
        GROUP BY k.collection_id, l.lexeme
        ON CONFLICT (collection_id, lexeme) DO UPDATE SET chunks = collection_lexemes.chunks + excluded.chunks;
    ELSE
        UPDATE collection_lexemes t SET chunks = t.chunks - d.chunks
        FROM (SELECT k.collection_id, l.lexeme, count(*) AS chunks
              FROM changed k, unnest(tsvector_to_array(k.lexemes)) AS l (lexeme) GROUP BY k.collection_id, l.lexeme) d
        WHERE t.collection_id = d.collection_id AND t.lexeme = d.lexeme;
    END IF;

    RETURN NULL;
END $$;

-- Statement triggers with transition tables: one pass over a whole document's chunks, not one per row.
-- Chunks are never updated in place (a new version replaces them), so insert and delete are every change.
CREATE TRIGGER collection_chunks_added AFTER INSERT ON collection_chunks
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION collection_lexemes_count();
CREATE TRIGGER collection_chunks_removed AFTER DELETE ON collection_chunks
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION collection_lexemes_count();

-- What is there already.
UPDATE collections c SET chunk_count = (SELECT count(*) FROM collection_chunks k WHERE k.collection_id = c.id);
INSERT INTO collection_lexemes (collection_id, lexeme, chunks)
SELECT k.collection_id, l.lexeme, count(*) FROM collection_chunks k, unnest(tsvector_to_array(k.lexemes)) AS l (lexeme)
GROUP BY k.collection_id, l.lexeme;

-- Searches read the GIN index on the request path, indexing writes it in the Worker. With fastupdate on,
-- new entries wait in a pending list that every search scans in full until a vacuum merges it (a few
-- hundred pages after a bulk upload, over a millisecond a search); so the writer pays instead.
ALTER INDEX collection_chunks_lexemes SET (fastupdate = off);
SELECT gin_clean_pending_list('collection_chunks_lexemes'::regclass);
