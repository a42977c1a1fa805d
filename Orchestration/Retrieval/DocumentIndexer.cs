using AspireLlm.Orchestration.Embeddings;
using AspireLlm.Orchestration.Vectors;
using StackExchange.Redis;

namespace AspireLlm.Orchestration.Retrieval;

/// <summary>What indexing a document did.</summary>
public sealed record IndexOutcome(string Status, int Chunks, int Embedded, long Tokens, decimal Cost)
{
    public const string Indexed = "indexed";
    public const string Superseded = "superseded";
    public const string Gone = "gone";
}

/// <summary>The vector index could not be written; the job tries again later (Postgres already holds the chunks).</summary>
public sealed class VectorIndexUnavailableException(string message, Exception inner) : Exception(message, inner);

/// <summary>
/// Indexes one version of a document, idempotently (the Worker's <c>index</c> job runs it, and may run it
/// twice): chunk the stored text, embed what is not embedded yet (reused from the collection's own chunks
/// by keyed content hash, then from the Redis embedding cache, then computed in batches), hash the
/// lexemes, and replace the document's chunks in one transaction that also checks the version is still
/// the newest. Then the vector index is brought in line: the replaced chunks removed, the current ones
/// added (adding again is harmless, so a run that died after the commit is finished by the next).
/// </summary>
public sealed class DocumentIndexer(
    CollectionStore store, EmbeddingCatalog embeddings, LexicalHasher hasher, VectorSets? vectors, EmbeddingCache? cache, TimeProvider timeProvider)
{
    private const int EmbeddingBatch = 32;

    /// <summary>Indexes the version of the document that job <paramref name="jobId"/> was created for; a later upload's job supersedes it.</summary>
    public async Task<IndexOutcome> IndexAsync(
        Guid collectionId, string tenantId, string documentId, Guid jobId, Func<int, string, Task> progress, CancellationToken cancellationToken)
    {
        var collection = await store.GetAsync(collectionId, tenantId, cancellationToken);
        var loaded = collection is null ? null : await store.GetDocumentWithTextAsync(collectionId, documentId, cancellationToken);
        if (collection is null || loaded is null)
        {
            return new IndexOutcome(IndexOutcome.Gone, 0, 0, 0, 0);
        }

        var (document, text) = loaded.Value;
        var version = document.Version;
        if (document.JobId != jobId)
        {
            return new IndexOutcome(IndexOutcome.Superseded, 0, 0, 0, 0);
        }

        int embedded = 0, chunkCount = document.ChunkCount;
        long tokens = 0;
        decimal cost = 0;
        if (document.IndexedVersion != version)
        {
            var chunks = Chunker.Split(text, document.ContentType, collection.ChunkSize, collection.ChunkOverlap);
            var hashes = chunks.Select(chunk => hasher.ContentHash(collection.LexemeKeyId, tenantId, collection.EmbeddingModelId, chunk.Text)).ToList();
            var vectorsByChunk = new float[]?[chunks.Count];
            var reusable = await store.EmbeddingsByHashAsync(collectionId, hashes, cancellationToken);
            for (var i = 0; i < chunks.Count; i++)
            {
                vectorsByChunk[i] = reusable.GetValueOrDefault(Convert.ToHexString(hashes[i]));
            }

            var missing = Enumerable.Range(0, chunks.Count).Where(i => vectorsByChunk[i] is null).ToList();
            if (cache is not null && missing.Count > 0)
            {
                var cached = await cache.GetAsync([.. missing.Select(i => hashes[i])]);
                for (var j = 0; j < missing.Count; j++)
                {
                    vectorsByChunk[missing[j]] = cached[j];
                }

                missing = [.. missing.Where(i => vectorsByChunk[i] is null)];
            }

            for (var start = 0; start < missing.Count; start += EmbeddingBatch)
            {
                var batch = missing.Skip(start).Take(EmbeddingBatch).ToList();
                var (generated, deployment, batchCost) = await embeddings.GenerateAsync(
                    collection.EmbeddingModel, [.. batch.Select(i => chunks[i].Text)], collection.Dimensions, cancellationToken);
                if (deployment.Options.Model != collection.EmbeddingModelId)
                {
                    throw new InvalidOperationException(
                        $"The collection's vectors are of '{collection.EmbeddingModelId}', but '{collection.EmbeddingModel}' now resolves to '{deployment.Options.Model}'; create a new collection for it.");
                }

                for (var j = 0; j < batch.Count; j++)
                {
                    vectorsByChunk[batch[j]] = generated[j].Vector.ToArray();
                }

                if (cache is not null)
                {
                    await cache.SetAsync([.. batch.Select(i => (hashes[i], vectorsByChunk[i]!))]);
                }

                embedded += batch.Count;
                tokens += generated.Usage?.InputTokenCount ?? 0;
                cost += batchCost;
                await progress(10 + 80 * Math.Min(start + batch.Count, missing.Count) / missing.Count, $"embedded {Math.Min(start + batch.Count, missing.Count)}/{missing.Count} chunks");
            }

            var lexemes = await store.LexemesAsync([.. chunks.Select(chunk => chunk.Text)], cancellationToken);
            var rows = chunks.Select((chunk, i) => new NewChunk(
                Guid.CreateVersion7(), chunk.Position, hashes[i], chunk.Text, vectorsByChunk[i]!, hasher.TsVector(collection.LexemeKeyId, lexemes[i]))).ToList();
            var (replaced, removed) = await store.ReplaceChunksAsync(collectionId, documentId, version, rows, timeProvider.GetUtcNow(), cancellationToken);
            if (!replaced)
            {
                // Another run indexed this version first, or a newer upload came: look again.
                return await IndexAsync(collectionId, tenantId, documentId, jobId, progress, cancellationToken) with { Embedded = embedded, Tokens = tokens, Cost = cost };
            }

            chunkCount = rows.Count;
            if (vectors is not null && removed.Count > 0)
            {
                await WriteIndexAsync(() => vectors.RemoveAsync(collection.VectorKey, removed.Select(id => id.ToString("N"))));
            }
        }

        if (vectors is not null)
        {
            var current = await store.ChunkVectorsAsync(collectionId, documentId, Guid.Empty, int.MaxValue, null, cancellationToken);
            await WriteIndexAsync(() => vectors.AddAsync(collection.VectorKey, [.. current.Select(chunk => (chunk.Id.ToString("N"), chunk.Vector))]));
        }

        return new IndexOutcome(IndexOutcome.Indexed, chunkCount, embedded, tokens, cost);
    }

    /// <summary>
    /// Rebuilds the collection's vector index from Postgres into a new generation, switches to it and
    /// drops the old one. Chunks written while it ran are added again after the switch.
    /// </summary>
    public async Task<int> RebuildAsync(Guid collectionId, string tenantId, Func<int, string, Task> progress, CancellationToken cancellationToken)
    {
        if (vectors is null || await store.GetAsync(collectionId, tenantId, cancellationToken) is not { } collection)
        {
            return 0;
        }

        var started = timeProvider.GetUtcNow();
        var next = collection.IndexGeneration + 1;
        var key = CollectionRecord.VectorKeyOf(collectionId, next);
        await WriteIndexAsync(() => vectors.DeleteAsync(key));
        var added = 0;
        var after = Guid.Empty;
        while (true)
        {
            var page = await store.ChunkVectorsAsync(collectionId, null, after, 500, null, cancellationToken);
            if (page.Count == 0)
            {
                break;
            }

            await WriteIndexAsync(() => vectors.AddAsync(key, [.. page.Select(chunk => (chunk.Id.ToString("N"), chunk.Vector))]));
            added += page.Count;
            after = page[^1].Id;
            await progress(Math.Min(95, 10 + 85 * added / Math.Max(collection.ChunkCount, 1)), $"{added}/{collection.ChunkCount} vectors");
        }

        if (!await store.SwitchGenerationAsync(collectionId, collection.IndexGeneration, next, cancellationToken))
        {
            await WriteIndexAsync(() => vectors.DeleteAsync(key));
            return 0; // another rebuild switched first
        }

        var late = await store.ChunkVectorsAsync(collectionId, null, Guid.Empty, int.MaxValue, started, cancellationToken);
        await WriteIndexAsync(() => vectors.AddAsync(key, [.. late.Select(chunk => (chunk.Id.ToString("N"), chunk.Vector))]));
        await WriteIndexAsync(() => vectors.DeleteAsync(collection.VectorKey));
        return added;
    }

    private static async Task WriteIndexAsync(Func<Task> write)
    {
        try
        {
            await write();
        }
        catch (RedisServerException exception) when (exception.Message.Contains("unknown command", StringComparison.OrdinalIgnoreCase))
        {
            // A Redis without vector sets (before 8): documents are indexed in Postgres and searched by full text.
        }
        catch (Exception exception) when (exception is RedisException or RedisTimeoutException)
        {
            throw new VectorIndexUnavailableException("The vector index could not be written.", exception);
        }
    }
}
