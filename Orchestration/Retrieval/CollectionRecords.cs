namespace AspireLlm.Orchestration.Retrieval;

/// <summary>A collection as stored: whose it is, how its documents are embedded and chunked, which index generation is live.</summary>
public sealed record CollectionRecord(
    Guid Id, string TenantId, string Name, string EmbeddingModel, string EmbeddingModelId, int Dimensions,
    int ChunkSize, int ChunkOverlap, string LexemeKeyId, int IndexGeneration, DateTimeOffset CreatedAt,
    int DocumentCount = 0, int ChunkCount = 0)
{
    /// <summary>The Redis vector set of the live index generation.</summary>
    public string VectorKey => VectorKeyOf(Id, IndexGeneration);

    public static string VectorKeyOf(Guid collection, int generation) => $"aspirellm:vec:v1:{collection:N}:{generation}";
}

/// <summary>A document as stored, its content opened.</summary>
public sealed record DocumentRecord(
    Guid CollectionId, string Id, string? Title, string ContentType, int Version, int? IndexedVersion, string Status,
    Guid? JobId, int ChunkCount, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>A chunk ready to store: its text, embedding and keyed lexemes.</summary>
public sealed record NewChunk(Guid Id, int Position, byte[] ContentHash, string Text, float[] Embedding, string Lexemes);

/// <summary>A chunk found by a search, with what a caller shows and cites.</summary>
public sealed record ChunkHit(Guid ChunkId, string DocumentId, string? Title, string Text, double Score);
