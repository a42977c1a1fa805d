using AspireLlm.Orchestration.Encryption;
using Npgsql;
using NpgsqlTypes;

namespace AspireLlm.Orchestration.Retrieval;

public sealed partial class CollectionStore
{
    /// <summary>Embeddings already stored in the collection for texts with these keyed hashes (hex), so unchanged text is not embedded again.</summary>
    public async Task<Dictionary<string, float[]>> EmbeddingsByHashAsync(Guid collectionId, IReadOnlyCollection<byte[]> hashes, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT DISTINCT ON (content_hash) id, content_hash, embedding FROM collection_chunks
            WHERE collection_id = $1 AND content_hash = ANY($2)
            """);
        command.Parameters.AddWithValue(collectionId);
        command.Parameters.AddWithValue(hashes.ToArray());
        var found = new Dictionary<string, float[]>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            found[Convert.ToHexString((byte[])reader[1])] = VectorOf(cipher.Open((byte[])reader[2], SealContext.For(SealContext.ChunkEmbedding, reader.GetGuid(0))));
        }

        return found;
    }

    /// <summary>Postgres's English lexemes (stemmed, stop words dropped) and their positions, per text.</summary>
    public async Task<List<(string Lexeme, short[] Positions)>[]> LexemesAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken)
    {
        var result = texts.Select(_ => new List<(string, short[])>()).ToArray();
        await using var command = dataSource.CreateCommand("""
            SELECT t.ord, l.lexeme, l.positions
            FROM unnest($1::text[]) WITH ORDINALITY AS t (txt, ord), LATERAL unnest(to_tsvector('english', t.txt)) AS l
            """);
        command.Parameters.AddWithValue(texts.ToArray());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            result[reader.GetInt64(0) - 1].Add((reader.GetString(1), reader.IsDBNull(2) ? [] : reader.GetFieldValue<short[]>(2)));
        }

        return result;
    }

    /// <summary>
    /// Replaces the document's chunks with <paramref name="chunks"/> in one transaction, if the document is
    /// still at <paramref name="version"/> (a newer upload wins) and that version is not indexed yet.
    /// Returns whether it did and the ids of the chunks it replaced (for the vector index).
    /// </summary>
    public async Task<(bool Replaced, IReadOnlyList<Guid> Removed)> ReplaceChunksAsync(
        Guid collectionId, string documentId, int version, IReadOnlyList<NewChunk> chunks, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // Sealed before the transaction, which holds the collection's row (see LockCollectionAsync).
        var ids = chunks.Select(chunk => chunk.Id).ToArray();
        var texts = chunks.Select(chunk => cipher.Seal(chunk.Text, SealContext.For(SealContext.ChunkText, chunk.Id))).ToArray();
        var embeddings = chunks.Select(chunk => cipher.Seal(VectorBytes(chunk.Embedding), SealContext.For(SealContext.ChunkEmbedding, chunk.Id))).ToArray();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await LockCollectionAsync(connection, transaction, collectionId, cancellationToken);
        await using (var check = new NpgsqlCommand(
            "SELECT version, indexed_version FROM collection_documents WHERE collection_id = $1 AND id = $2 FOR UPDATE", connection, transaction))
        {
            check.Parameters.AddWithValue(collectionId);
            check.Parameters.AddWithValue(documentId);
            await using var reader = await check.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken) || reader.GetInt32(0) != version || (!reader.IsDBNull(1) && reader.GetInt32(1) == version))
            {
                return (false, []);
            }
        }

        var removed = new List<Guid>();
        await using (var delete = new NpgsqlCommand(
            "DELETE FROM collection_chunks WHERE collection_id = $1 AND document_id = $2 RETURNING id", connection, transaction))
        {
            delete.Parameters.AddWithValue(collectionId);
            delete.Parameters.AddWithValue(documentId);
            await using var reader = await delete.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                removed.Add(reader.GetGuid(0));
            }
        }

        await using (var insert = new NpgsqlCommand("""
            INSERT INTO collection_chunks (id, collection_id, document_id, position, content_hash, text, embedding, lexemes, created_at)
            SELECT c.id, $1, $2, c.position, c.hash, c.text, c.embedding, c.lexemes::tsvector, $8
            FROM unnest($3::uuid[], $4::int[], $5::bytea[], $6::bytea[], $7::bytea[], $9::text[]) AS c (id, position, hash, text, embedding, lexemes)
            """, connection, transaction))
        {
            insert.Parameters.AddWithValue(collectionId);
            insert.Parameters.AddWithValue(documentId);
            insert.Parameters.AddWithValue(ids);
            insert.Parameters.AddWithValue(chunks.Select(chunk => chunk.Position).ToArray());
            insert.Parameters.AddWithValue(chunks.Select(chunk => chunk.ContentHash).ToArray());
            insert.Parameters.AddWithValue(texts);
            insert.Parameters.AddWithValue(embeddings);
            insert.Parameters.AddWithValue(now);
            insert.Parameters.AddWithValue(chunks.Select(chunk => chunk.Lexemes).ToArray());
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var mark = new NpgsqlCommand("""
            UPDATE collection_documents SET indexed_version = version, status = 'indexed', chunk_count = $3, updated_at = $4
            WHERE collection_id = $1 AND id = $2
            """, connection, transaction))
        {
            mark.Parameters.AddWithValue(collectionId);
            mark.Parameters.AddWithValue(documentId);
            mark.Parameters.AddWithValue(chunks.Count);
            mark.Parameters.AddWithValue(now);
            await mark.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return (true, removed);
    }

    /// <summary>
    /// Takes the collection's row for the rest of the transaction, before any document's: every writer of
    /// chunks takes it (their triggers update the collection's counts), and deleting the collection holds
    /// it before its cascade reaches the documents. One order for all of them, so none deadlocks another.
    /// </summary>
    private static async Task LockCollectionAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid collectionId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT 1 FROM collections WHERE id = $1 FOR NO KEY UPDATE", connection, transaction);
        command.Parameters.AddWithValue(collectionId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Chunk ids and vectors, in id order after <paramref name="after"/>: a page of a rebuild, or one document's.</summary>
    public async Task<IReadOnlyList<(Guid Id, float[] Vector)>> ChunkVectorsAsync(
        Guid collectionId, string? documentId, Guid after, int limit, DateTimeOffset? createdSince, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT id, embedding FROM collection_chunks
            WHERE collection_id = $1 AND ($2::text IS NULL OR document_id = $2) AND id > $3 AND ($5::timestamptz IS NULL OR created_at >= $5)
            ORDER BY id LIMIT $4
            """);
        command.Parameters.AddWithValue(collectionId);
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)documentId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.AddWithValue(after);
        command.Parameters.AddWithValue(limit);
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)createdSince ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        var vectors = new List<(Guid, float[])>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var id = reader.GetGuid(0);
            vectors.Add((id, VectorOf(cipher.Open((byte[])reader[1], SealContext.For(SealContext.ChunkEmbedding, id)))));
        }

        return vectors;
    }

    /// <summary>How many of the collection's chunks hold each of these lexeme hashes (0 for none), kept by the chunks' triggers.</summary>
    public async Task<IReadOnlyList<(string Lexeme, long Chunks)>> LexemeChunksAsync(Guid collectionId, IReadOnlyCollection<string> lexemes, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT q.lexeme, coalesce(l.chunks, 0) FROM unnest($2::text[]) AS q (lexeme)
            LEFT JOIN collection_lexemes l ON l.collection_id = $1 AND l.lexeme = q.lexeme
            """);
        command.Parameters.AddWithValue(collectionId);
        command.Parameters.AddWithValue(lexemes.ToArray());
        var counts = new List<(string, long)>(lexemes.Count);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            counts.Add((reader.GetString(0), reader.GetInt32(1)));
        }

        return counts;
    }

    /// <summary>
    /// Full-text matches, best first: at most <paramref name="candidates"/> chunks matching the query are
    /// ranked; when they are fewer than <paramref name="limit"/>, those of its fallback follow.
    /// </summary>
    public async Task<IReadOnlyList<(Guid Id, double Rank)>> LexicalSearchAsync(
        Guid collectionId, LexicalQuery query, int limit, int candidates, CancellationToken cancellationToken)
    {
        var found = await RankAsync(collectionId, query.Match, query.Rank, limit, candidates, cancellationToken);
        if (query.Fallback is { } fallback && found.Count < limit)
        {
            var seen = found.Select(hit => hit.Id).ToHashSet();
            found.AddRange((await RankAsync(collectionId, fallback, query.Rank, limit, candidates, cancellationToken))
                .Where(hit => !seen.Contains(hit.Id)).Take(limit - found.Count));
        }

        return found;
    }

    private async Task<List<(Guid Id, double Rank)>> RankAsync(
        Guid collectionId, string match, string rank, int limit, int candidates, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT id, ts_rank_cd(lexemes, CAST($3 AS tsquery), 1) AS rank
            FROM (SELECT id, lexemes FROM collection_chunks WHERE collection_id = $1 AND lexemes @@ CAST($2 AS tsquery) LIMIT $5) AS matched
            ORDER BY rank DESC, id LIMIT $4
            """);
        command.Parameters.AddWithValue(collectionId);
        command.Parameters.AddWithValue(match);
        command.Parameters.AddWithValue(rank);
        command.Parameters.AddWithValue(limit);
        command.Parameters.AddWithValue(candidates);
        var found = new List<(Guid, double)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            found.Add((reader.GetGuid(0), reader.GetFloat(1)));
        }

        return found;
    }

    /// <summary>The chunks of the collection with these ids (text and title opened); ids not in it are left out.</summary>
    public async Task<Dictionary<Guid, ChunkHit>> ChunksAsync(Guid collectionId, IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT k.id, k.document_id, d.title, k.text FROM collection_chunks k
            JOIN collection_documents d ON d.collection_id = k.collection_id AND d.id = k.document_id
            WHERE k.collection_id = $1 AND k.id = ANY($2)
            """);
        command.Parameters.AddWithValue(collectionId);
        command.Parameters.AddWithValue(ids.ToArray());
        var chunks = new Dictionary<Guid, ChunkHit>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var id = reader.GetGuid(0);
            var documentId = reader.GetString(1);
            chunks[id] = new ChunkHit(
                id, documentId,
                reader.IsDBNull(2) ? null : cipher.OpenString((byte[])reader[2], DocumentContext(SealContext.DocumentTitle, collectionId, documentId)),
                cipher.OpenString((byte[])reader[3], SealContext.For(SealContext.ChunkText, id)), 0);
        }

        return chunks;
    }

    /// <summary>Makes <paramref name="to"/> the live index generation if <paramref name="from"/> still is.</summary>
    public async Task<bool> SwitchGenerationAsync(Guid collectionId, int from, int to, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("UPDATE collections SET index_generation = $3 WHERE id = $1 AND index_generation = $2");
        command.Parameters.AddWithValue(collectionId);
        command.Parameters.AddWithValue(from);
        command.Parameters.AddWithValue(to);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>The collection whatever its tenant: for the Worker, which runs jobs a tenant's key submitted.</summary>
    public async Task<CollectionRecord?> GetForJobAsync(Guid id, string tenantId, CancellationToken cancellationToken) =>
        await GetAsync(id, tenantId, cancellationToken);
}
