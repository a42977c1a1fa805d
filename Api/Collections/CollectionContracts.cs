using AspireLlm.Orchestration.Retrieval;

namespace AspireLlm.Api.Collections;

public sealed record CreateCollectionRequest(string? Name, string? EmbeddingModel, int? ChunkSize, int? ChunkOverlap);

public sealed record DocumentRequest(string? Id, string? Title, string? Text, string? ContentType);

public sealed record SearchRequest(string? Query, int? TopK, string? Mode);

public sealed record CollectionView(
    Guid Id, string Object, string Name, string EmbeddingModel, string EmbeddingModelId, int Dimensions, int ChunkSize, int ChunkOverlap,
    int Documents, int Chunks, DateTimeOffset CreatedAt)
{
    public static CollectionView From(CollectionRecord collection) => new(
        collection.Id, "collection", collection.Name, collection.EmbeddingModel, collection.EmbeddingModelId, collection.Dimensions,
        collection.ChunkSize, collection.ChunkOverlap, collection.DocumentCount, collection.ChunkCount, collection.CreatedAt);
}

public sealed record DocumentView(
    string Id, string Object, Guid CollectionId, string? Title, string ContentType, int Version, string Status, Guid? JobId, int Chunks,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static DocumentView From(DocumentRecord document) => new(
        document.Id, "collection.document", document.CollectionId, document.Title, document.ContentType, document.Version, document.Status,
        document.JobId, document.ChunkCount, document.CreatedAt, document.UpdatedAt);
}

/// <summary>The 202 of an upload or rebuild: the document (if any) and the index job to poll (<c>/v1/jobs/{id}</c>).</summary>
public sealed record IndexAccepted(string Object, Guid CollectionId, string? DocumentId, int? Version, Guid JobId, string Status);

public sealed record SearchHitView(Guid ChunkId, string DocumentId, string? Title, string Text, double Score);

public sealed record SearchResponse(string Object, string Mode, IReadOnlyList<SearchHitView> Data, IReadOnlyList<string>? Degraded);

public sealed record ListResponse<T>(string Object, IReadOnlyList<T> Data);

public sealed record Deleted(string Id, string Object, [property: System.Text.Json.Serialization.JsonPropertyName("deleted")] bool IsDeleted);
