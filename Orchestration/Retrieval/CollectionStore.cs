using System.Runtime.InteropServices;
using System.Text;
using AspireLlm.Orchestration.Encryption;
using Npgsql;
using NpgsqlTypes;

namespace AspireLlm.Orchestration.Retrieval;

/// <summary>
/// Collections, documents and chunks in Postgres, the source of truth of retrieval. Every read is scoped
/// by tenant (another tenant's collection reads as absent). Customer content is sealed here on the way
/// in and opened on the way out: document titles and text, chunk text and embeddings. What stays
/// readable is what search needs: full-text lexemes, but only as keyed hashes (see <see cref="LexicalHasher"/>).
/// </summary>
public sealed partial class CollectionStore(NpgsqlDataSource dataSource, ContentCipher cipher)
{
    private const string CollectionColumns =
        "c.id, c.tenant_id, c.name, c.embedding_model, c.embedding_model_id, c.dimensions, c.chunk_size, c.chunk_overlap, " +
        "c.lexeme_key_id, c.index_generation, c.created_at, " +
        "(SELECT count(*)::int FROM collection_documents d WHERE d.collection_id = c.id), " +
        "c.chunk_count::int";

    public ContentCipher Cipher => cipher;

    /// <summary>Creates the collection; null when the tenant already has one of that name.</summary>
    public async Task<CollectionRecord?> CreateAsync(CollectionRecord collection, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO collections (id, tenant_id, name, embedding_model, embedding_model_id, dimensions, chunk_size, chunk_overlap,
                                     lexeme_key_id, index_generation, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10)
            ON CONFLICT (tenant_id, name) DO NOTHING
            """);
        command.Parameters.AddWithValue(collection.Id);
        command.Parameters.AddWithValue(collection.TenantId);
        command.Parameters.AddWithValue(collection.Name);
        command.Parameters.AddWithValue(collection.EmbeddingModel);
        command.Parameters.AddWithValue(collection.EmbeddingModelId);
        command.Parameters.AddWithValue(collection.Dimensions);
        command.Parameters.AddWithValue(collection.ChunkSize);
        command.Parameters.AddWithValue(collection.ChunkOverlap);
        command.Parameters.AddWithValue(collection.LexemeKeyId);
        command.Parameters.AddWithValue(collection.CreatedAt);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1 ? collection : null;
    }

    public async Task<CollectionRecord?> GetAsync(Guid id, string tenantId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {CollectionColumns} FROM collections c WHERE c.id = $1 AND c.tenant_id = $2");
        command.Parameters.AddWithValue(id);
        command.Parameters.AddWithValue(tenantId);
        return (await ReadCollectionsAsync(command, cancellationToken)).SingleOrDefault();
    }

    public async Task<IReadOnlyList<CollectionRecord>> ListAsync(string tenantId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {CollectionColumns} FROM collections c WHERE c.tenant_id = $1 ORDER BY c.created_at");
        command.Parameters.AddWithValue(tenantId);
        return await ReadCollectionsAsync(command, cancellationToken);
    }

    /// <summary>Deletes the collection with its documents and chunks; returns it as it was, or null when it was not the tenant's.</summary>
    public async Task<CollectionRecord?> DeleteAsync(Guid id, string tenantId, CancellationToken cancellationToken)
    {
        var collection = await GetAsync(id, tenantId, cancellationToken);
        if (collection is null)
        {
            return null;
        }

        await using var command = dataSource.CreateCommand("DELETE FROM collections WHERE id = $1 AND tenant_id = $2");
        command.Parameters.AddWithValue(id);
        command.Parameters.AddWithValue(tenantId);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1 ? collection : null;
    }

    /// <summary>
    /// Stores an upload as the document's next version (its text sealed), marked pending until the job
    /// <paramref name="jobId"/> indexes it. Returns the version.
    /// </summary>
    public async Task<int> PutDocumentAsync(
        Guid collectionId, string documentId, string? title, string contentType, string text, Guid jobId, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO collection_documents (collection_id, id, title, content_type, content, version, status, job_id, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, 1, 'pending', $6, $7, $7)
            ON CONFLICT (collection_id, id) DO UPDATE SET title = $3, content_type = $4, content = $5,
                version = collection_documents.version + 1, status = 'pending', job_id = $6, updated_at = $7
            RETURNING version
            """);
        command.Parameters.AddWithValue(collectionId);
        command.Parameters.AddWithValue(documentId);
        command.Parameters.Add(new NpgsqlParameter { Value = title is null ? DBNull.Value : cipher.Seal(title, DocumentContext(SealContext.DocumentTitle, collectionId, documentId)), NpgsqlDbType = NpgsqlDbType.Bytea });
        command.Parameters.AddWithValue(contentType);
        command.Parameters.AddWithValue(cipher.Seal(text, DocumentContext(SealContext.DocumentContent, collectionId, documentId)));
        command.Parameters.AddWithValue(jobId);
        command.Parameters.AddWithValue(now);
        return (int)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>The document with its text (opened), or null.</summary>
    public async Task<(DocumentRecord Document, string Text)?> GetDocumentWithTextAsync(Guid collectionId, string documentId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {DocumentColumns}, content FROM collection_documents WHERE collection_id = $1 AND id = $2");
        command.Parameters.AddWithValue(collectionId);
        command.Parameters.AddWithValue(documentId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var document = ReadDocument(reader);
        return (document, cipher.OpenString((byte[])reader[11], DocumentContext(SealContext.DocumentContent, collectionId, documentId)));
    }

    public async Task<IReadOnlyList<DocumentRecord>> ListDocumentsAsync(Guid collectionId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {DocumentColumns} FROM collection_documents WHERE collection_id = $1 ORDER BY created_at, id");
        command.Parameters.AddWithValue(collectionId);
        var documents = new List<DocumentRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            documents.Add(ReadDocument(reader));
        }

        return documents;
    }

    /// <summary>Deletes a document and its chunks; returns the ids of the chunks removed (for the vector index), or null when there was none.</summary>
    public async Task<IReadOnlyList<Guid>?> DeleteDocumentAsync(Guid collectionId, string documentId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await LockCollectionAsync(connection, transaction, collectionId, cancellationToken);
        var ids = new List<Guid>();
        var found = false;
        await using (var command = new NpgsqlCommand("""
            WITH removed AS (DELETE FROM collection_documents WHERE collection_id = $1 AND id = $2 RETURNING id)
            SELECT k.id FROM collection_chunks k JOIN removed r ON k.document_id = r.id WHERE k.collection_id = $1
            UNION ALL SELECT NULL FROM removed
            """, connection, transaction))
        {
            command.Parameters.AddWithValue(collectionId);
            command.Parameters.AddWithValue(documentId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                found = true;
                if (!reader.IsDBNull(0))
                {
                    ids.Add(reader.GetGuid(0));
                }
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return found ? ids : null;
    }

    public async Task MarkDocumentFailedAsync(Guid collectionId, string documentId, int version, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "UPDATE collection_documents SET status = 'failed', updated_at = $4 WHERE collection_id = $1 AND id = $2 AND version = $3");
        command.Parameters.AddWithValue(collectionId);
        command.Parameters.AddWithValue(documentId);
        command.Parameters.AddWithValue(version);
        command.Parameters.AddWithValue(now);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private const string DocumentColumns =
        "collection_id, id, title, content_type, version, indexed_version, status, job_id, chunk_count, created_at, updated_at";

    private DocumentRecord ReadDocument(NpgsqlDataReader reader)
    {
        var collectionId = reader.GetGuid(0);
        var id = reader.GetString(1);
        return new DocumentRecord(
            collectionId, id,
            reader.IsDBNull(2) ? null : cipher.OpenString((byte[])reader[2], DocumentContext(SealContext.DocumentTitle, collectionId, id)),
            reader.GetString(3), reader.GetInt32(4), reader.IsDBNull(5) ? null : reader.GetInt32(5), reader.GetString(6),
            reader.IsDBNull(7) ? null : reader.GetGuid(7), reader.GetInt32(8),
            reader.GetFieldValue<DateTimeOffset>(9), reader.GetFieldValue<DateTimeOffset>(10));
    }

    private static async Task<List<CollectionRecord>> ReadCollectionsAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var collections = new List<CollectionRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            collections.Add(new CollectionRecord(
                reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetInt32(5),
                reader.GetInt32(6), reader.GetInt32(7), reader.GetString(8), reader.GetInt32(9), reader.GetFieldValue<DateTimeOffset>(10),
                reader.GetInt32(11), reader.GetInt32(12)));
        }

        return collections;
    }

    /// <summary>A document's sealed fields are bound to the collection and the document's id.</summary>
    internal static byte[] DocumentContext(string field, Guid collectionId, string documentId) =>
        [.. SealContext.For(field, collectionId), .. Encoding.UTF8.GetBytes(documentId)];

    internal static byte[] VectorBytes(float[] vector) => MemoryMarshal.AsBytes(vector.AsSpan()).ToArray();

    internal static float[] VectorOf(byte[] bytes) => MemoryMarshal.Cast<byte, float>(bytes).ToArray();
}
