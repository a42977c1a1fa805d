using AspireLlm.Orchestration.Embeddings;
using AspireLlm.Orchestration.Vectors;
using StackExchange.Redis;

namespace AspireLlm.Orchestration.Retrieval;

public enum SearchMode
{
    Hybrid,
    Vector,
    Lexical,
}

/// <summary>What a search found, best first, and which of its layers failed (the others still answered).</summary>
public sealed record SearchResult(IReadOnlyList<ChunkHit> Hits, IReadOnlyList<string> Degraded);

/// <summary>
/// An optional last stage over the fused candidates (a cross-encoder, or an LLM through the pipeline):
/// reorders and rescores them. None is registered by default.
/// </summary>
public interface IReranker
{
    Task<IReadOnlyList<ChunkHit>> RerankAsync(string query, IReadOnlyList<ChunkHit> candidates, CancellationToken cancellationToken);
}

/// <summary>
/// The fast path of retrieval (the Api runs it; nothing here is slow work): the query embedded with
/// the collection's model and looked up in the vector index, its lexemes matched in Postgres's full-text
/// index, the two lists fused by reciprocal rank fusion (each chunk scores Σ 1/(60 + rank)), the chunks
/// read from Postgres (the source of truth: a vector-index entry without a chunk is dropped), then an
/// optional reranker. Each layer fails on its own: without the vector index a hybrid search answers from
/// full text and says so.
/// </summary>
public sealed class RetrievalSearch(
    CollectionStore store, EmbeddingCatalog embeddings, LexicalHasher hasher, VectorSets? vectors, RetrievalOptions options, IReranker? reranker = null)
{
    public const int RrfK = 60;

    /// <param name="queryVector">The query's embedding when the caller has it already (it is computed otherwise).</param>
    public async Task<SearchResult> SearchAsync(
        CollectionRecord collection, string query, int topK, SearchMode mode, CancellationToken cancellationToken, float[]? queryVector = null)
    {
        var depth = Math.Max(topK * 4, options.CandidateDepth);
        var degraded = new List<string>();
        // A hybrid search asks both halves at once; a vector search asks full text only when the vector index fails.
        var vectorSearch = mode == SearchMode.Lexical
            ? Task.FromResult<IReadOnlyList<(Guid Id, double Score)>?>(null)
            : VectorCandidatesAsync(collection, query, queryVector, depth, degraded, cancellationToken);
        var lexicalSearch = mode == SearchMode.Vector ? null : LexicalCandidatesAsync(collection, query, depth, cancellationToken);
        await Task.WhenAll(lexicalSearch is null ? [vectorSearch] : [vectorSearch, lexicalSearch]);
        var vectorList = await vectorSearch;
        var lexicalList = lexicalSearch is not null ? await lexicalSearch
            : vectorList is null ? await LexicalCandidatesAsync(collection, query, depth, cancellationToken)
            : null;

        var ranked = (vectorList, lexicalList) switch
        {
            ({ } v, { } l) when mode == SearchMode.Hybrid => Fuse(v, l),
            ({ } v, _) => v,
            (_, { } l) => l,
            _ => [],
        };

        // A few spare, for vector entries whose chunks are gone.
        var wanted = ranked.Take(topK + 8).ToList();
        var chunks = await store.ChunksAsync(collection.Id, [.. wanted.Select(candidate => candidate.Id)], cancellationToken);
        IReadOnlyList<ChunkHit> hits = [.. wanted.Where(candidate => chunks.ContainsKey(candidate.Id))
            .Select(candidate => chunks[candidate.Id] with { Score = Math.Round(candidate.Score, 6) })];
        if (reranker is not null && hits.Count > 1)
        {
            hits = await reranker.RerankAsync(query, hits, cancellationToken);
        }

        return new SearchResult([.. hits.Take(topK)], degraded);
    }

    /// <summary>Reciprocal rank fusion: robust to the two lists' scores being on unrelated scales.</summary>
    public static List<(Guid Id, double Score)> Fuse(params IReadOnlyList<(Guid Id, double Score)>[] lists)
    {
        var scores = new Dictionary<Guid, double>();
        foreach (var list in lists)
        {
            for (var rank = 0; rank < list.Count; rank++)
            {
                scores[list[rank].Id] = scores.GetValueOrDefault(list[rank].Id) + 1.0 / (RrfK + rank + 1);
            }
        }

        return [.. scores.OrderByDescending(pair => pair.Value).ThenBy(pair => pair.Key).Select(pair => (pair.Key, pair.Value))];
    }

    private async Task<IReadOnlyList<(Guid Id, double Score)>> LexicalCandidatesAsync(CollectionRecord collection, string query, int depth, CancellationToken cancellationToken)
    {
        var lexemes = (await store.LexemesAsync([query], cancellationToken))[0].Select(lexeme => lexeme.Lexeme);
        var hashes = hasher.HashLexemes(collection.LexemeKeyId, lexemes);
        if (hashes.Count == 0)
        {
            return [];
        }

        var plan = LexicalQuery.Plan(await store.LexemeChunksAsync(collection.Id, [.. hashes], cancellationToken), options.MaxLexicalCandidates);
        return plan is null ? [] : await store.LexicalSearchAsync(collection.Id, plan, depth, options.MaxLexicalCandidates, cancellationToken);
    }

    private async Task<IReadOnlyList<(Guid Id, double Score)>?> VectorCandidatesAsync(
        CollectionRecord collection, string query, float[]? queryVector, int depth, List<string> degraded, CancellationToken cancellationToken)
    {
        if (vectors is null)
        {
            degraded.Add("vector");
            return null;
        }

        try
        {
            queryVector ??= (await embeddings.GenerateAsync(collection.EmbeddingModel, [query], collection.Dimensions, cancellationToken)).Embeddings[0].Vector.ToArray();
            var matches = await vectors.SearchAsync(collection.VectorKey, queryVector, depth, options.VectorSearchExploration);
            return [.. matches.Select(match => (Guid.ParseExact(match.Element, "N"), match.Similarity))];
        }
        catch (Exception exception) when (exception is RedisException or RedisTimeoutException or Routing.ModelUnavailableException)
        {
            degraded.Add("vector");
            return null;
        }
    }
}

/// <summary>Retrieval settings, bound from <c>Retrieval</c>.</summary>
public sealed class RetrievalOptions
{
    public const string SectionName = "Retrieval";

    /// <summary>The embedding alias of a collection created without one.</summary>
    [System.ComponentModel.DataAnnotations.Required]
    public string DefaultEmbeddingModel { get; set; } = "all-minilm-l6-v2";

    [System.ComponentModel.DataAnnotations.Range(100, 8000)]
    public int DefaultChunkSize { get; set; } = 800;

    [System.ComponentModel.DataAnnotations.Range(0, 2000)]
    public int DefaultChunkOverlap { get; set; } = 120;

    /// <summary>Candidates taken from each of the vector and the full-text lists before fusion.</summary>
    [System.ComponentModel.DataAnnotations.Range(5, 1000)]
    public int CandidateDepth { get; set; } = 40;

    /// <summary>
    /// The most chunks a full-text search ranks (ranking reads each one): a query's rarest words are matched
    /// up to about this many chunks, and its common words only rank what those found (see <see cref="LexicalQuery"/>).
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(10, 1_000_000)]
    public int MaxLexicalCandidates { get; set; } = 500;

    /// <summary>The vector search's exploration factor (<c>EF</c>): higher finds more of the true nearest, slower.</summary>
    [System.ComponentModel.DataAnnotations.Range(10, 5000)]
    public int VectorSearchExploration { get; set; } = 200;

    /// <summary>Largest document text accepted, in characters (after extraction).</summary>
    [System.ComponentModel.DataAnnotations.Range(1000, 10_000_000)]
    public int MaxDocumentCharacters { get; set; } = 1_000_000;
}
