using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using AspireLlm.Api.ApiKeys;
using AspireLlm.Api.Errors;
using AspireLlm.Api.Jobs;
using AspireLlm.Orchestration.Embeddings;
using AspireLlm.Orchestration.Jobs;
using AspireLlm.Orchestration.Retrieval;
using AspireLlm.Orchestration.Vectors;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace AspireLlm.Api.Collections;

/// <summary>
/// <c>/v1/collections</c>: a tenant's document collections, uploads (indexed by the Worker's <c>index</c>
/// jobs), search, and the vector index's rebuild. Ours, not OpenAI's: errors are ProblemDetails, and
/// another tenant's collection is 404.
/// </summary>
public static partial class CollectionsEndpoints
{
    public static IEndpointRouteBuilder MapCollectionsEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/collections").WithTags("Collections").RequireAuthorization();
        group.MapPost("/", CreateAsync).WithName("CreateCollection");
        group.MapGet("/", ListAsync).WithName("ListCollections");
        group.MapGet("/{id}", GetAsync).WithName("GetCollection");
        group.MapDelete("/{id}", DeleteAsync).WithName("DeleteCollection");
        group.MapPost("/{id}/documents", DocumentUploads.UploadAsync).WithName("UploadDocument").DisableAntiforgery();
        group.MapGet("/{id}/documents", ListDocumentsAsync).WithName("ListDocuments");
        group.MapDelete("/{id}/documents/{documentId}", DeleteDocumentAsync).WithName("DeleteDocument");
        group.MapPost("/{id}/search", SearchAsync).WithName("SearchCollection");
        group.MapPost("/{id}/rebuild", RebuildAsync).WithName("RebuildCollectionIndex");
        return routes;
    }

    internal static async Task<Results<Created<CollectionView>, ProblemHttpResult>> CreateAsync(
        HttpContext context, CollectionStore store, EmbeddingCatalog embeddings, LexicalHasher hasher, RetrievalOptions options,
        TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var (request, error) = await ReadAsync<CreateCollectionRequest>(context, cancellationToken);
        if (error is not null)
        {
            return error;
        }

        var errors = new Dictionary<string, string[]>();
        if (request!.Name is not { } name || !NamePattern().IsMatch(name))
        {
            errors["name"] = ["Required: 1 to 100 letters, digits, spaces, '.', '_' or '-'."];
        }

        var model = request.EmbeddingModel ?? options.DefaultEmbeddingModel;
        if (!embeddings.IsKnown(model))
        {
            errors["embedding_model"] = [$"'{model}' is not an embedding model of this deployment ({string.Join(", ", embeddings.Aliases)})."];
        }
        else if (!Caller.KeyOf(context).Limits.Allows(model))
        {
            errors["embedding_model"] = [$"This API key may not use the model '{model}'."];
        }

        var size = request.ChunkSize ?? options.DefaultChunkSize;
        var overlap = request.ChunkOverlap ?? Math.Min(options.DefaultChunkOverlap, size / 4);
        if (size is < 100 or > 8000)
        {
            errors["chunk_size"] = ["Must be from 100 to 8000 characters."];
        }

        if (overlap < 0 || overlap > size / 2)
        {
            errors["chunk_overlap"] = ["Must be from 0 to half the chunk size."];
        }

        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        // One embedding of the name tells the dimensions and proves the model answers before documents arrive.
        var (probe, deployment, _) = await embeddings.GenerateAsync(model, [request.Name!], null, cancellationToken);
        var caller = Caller.From(context.User);
        var collection = new CollectionRecord(
            Guid.CreateVersion7(), caller.TenantId, request.Name!, model, deployment.Options.Model, probe[0].Vector.Length, size, overlap,
            hasher.ActiveKeyId, 1, timeProvider.GetUtcNow());
        if (await store.CreateAsync(collection, cancellationToken) is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Name taken", detail: $"This tenant already has a collection named '{request.Name}'.");
        }

        return TypedResults.Created($"/v1/collections/{collection.Id}", CollectionView.From(collection));
    }

    internal static async Task<Ok<ListResponse<CollectionView>>> ListAsync(HttpContext context, CollectionStore store, CancellationToken cancellationToken) =>
        TypedResults.Ok(new ListResponse<CollectionView>("list", [.. (await store.ListAsync(Caller.From(context.User).TenantId, cancellationToken)).Select(CollectionView.From)]));

    internal static async Task<Results<Ok<CollectionView>, ProblemHttpResult>> GetAsync(
        string id, HttpContext context, CollectionStore store, CancellationToken cancellationToken) =>
        await FindAsync(id, context, store, cancellationToken) is { } collection ? TypedResults.Ok(CollectionView.From(collection)) : NotFound(id);

    internal static async Task<Results<Ok<Deleted>, ProblemHttpResult>> DeleteAsync(
        string id, HttpContext context, CollectionStore store, IServiceProvider services, CancellationToken cancellationToken)
    {
        var deleted = Guid.TryParse(id, out var collectionId) ? await store.DeleteAsync(collectionId, Caller.From(context.User).TenantId, cancellationToken) : null;
        if (deleted is null)
        {
            return NotFound(id);
        }

        // Postgres is the truth and no longer has it: a vector index left behind is never read, but is removed now if it can be.
        await TryIndexAsync(services, vectors => vectors.DeleteAsync(deleted.VectorKey));
        return TypedResults.Ok(new Deleted(id, "collection.deleted", true));
    }

    internal static async Task<Results<Ok<ListResponse<DocumentView>>, ProblemHttpResult>> ListDocumentsAsync(
        string id, HttpContext context, CollectionStore store, CancellationToken cancellationToken) =>
        await FindAsync(id, context, store, cancellationToken) is { } collection
            ? TypedResults.Ok(new ListResponse<DocumentView>("list", [.. (await store.ListDocumentsAsync(collection.Id, cancellationToken)).Select(DocumentView.From)]))
            : NotFound(id);

    internal static async Task<Results<Ok<Deleted>, ProblemHttpResult>> DeleteDocumentAsync(
        string id, string documentId, HttpContext context, CollectionStore store, IServiceProvider services, CancellationToken cancellationToken)
    {
        if (await FindAsync(id, context, store, cancellationToken) is not { } collection)
        {
            return NotFound(id);
        }

        if (await store.DeleteDocumentAsync(collection.Id, documentId, cancellationToken) is not { } chunkIds)
        {
            return Problems.NotFound($"Collection '{id}' has no document '{documentId}'.");
        }

        await TryIndexAsync(services, vectors => vectors.RemoveAsync(collection.VectorKey, chunkIds.Select(chunk => chunk.ToString("N"))));
        return TypedResults.Ok(new Deleted(documentId, "collection.document.deleted", true));
    }

    internal static async Task<Results<Ok<SearchResponse>, ProblemHttpResult>> SearchAsync(
        string id, HttpContext context, CollectionStore store, RetrievalSearch search, CancellationToken cancellationToken)
    {
        if (await FindAsync(id, context, store, cancellationToken) is not { } collection)
        {
            return NotFound(id);
        }

        var (request, error) = await ReadAsync<SearchRequest>(context, cancellationToken);
        if (error is not null)
        {
            return error;
        }

        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request!.Query) || request.Query.Length > 4000)
        {
            errors["query"] = ["Required: 1 to 4000 characters."];
        }

        if (request.TopK is < 1 or > 50)
        {
            errors["top_k"] = ["Must be from 1 to 50."];
        }

        SearchMode mode = SearchMode.Hybrid;
        if (request.Mode is not null && !(request.Mode is "hybrid" or "vector" or "lexical" && Enum.TryParse(request.Mode, ignoreCase: true, out mode)))
        {
            errors["mode"] = ["Must be 'hybrid', 'vector' or 'lexical'."];
        }

        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        var found = await search.SearchAsync(collection, request.Query!, request.TopK ?? 5, mode, cancellationToken);
        return TypedResults.Ok(new SearchResponse(
            "list", mode.ToString().ToLowerInvariant(),
            [.. found.Hits.Select(hit => new SearchHitView(hit.ChunkId, hit.DocumentId, hit.Title, hit.Text, hit.Score))],
            found.Degraded.Count > 0 ? found.Degraded : null));
    }

    internal static async Task<Results<Accepted<IndexAccepted>, ProblemHttpResult>> RebuildAsync(
        string id, HttpContext context, CollectionStore store, JobStore jobs, JobNotifications notifications, IOptions<JobLimitsOptions> limits,
        TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        if (await FindAsync(id, context, store, cancellationToken) is not { } collection)
        {
            return NotFound(id);
        }

        var jobId = Guid.CreateVersion7();
        if (await SubmitIndexJobAsync(context, jobs, notifications, limits.Value, timeProvider, jobId, new IndexInput(collection.Id, null), cancellationToken) is { } refused)
        {
            return refused;
        }

        return TypedResults.Accepted($"/v1/jobs/{jobId}", new IndexAccepted("collection.rebuild", collection.Id, null, null, jobId, JobStatus.Pending));
    }

    /// <summary>Commits an index job's row (the Workers' dispatchers take it from there); a problem when the key has too many waiting.</summary>
    internal static async Task<ProblemHttpResult?> SubmitIndexJobAsync(
        HttpContext context, JobStore jobs, JobNotifications notifications, JobLimitsOptions limits, TimeProvider timeProvider, Guid jobId,
        IndexInput input, CancellationToken cancellationToken)
    {
        var caller = Caller.From(context.User);
        var json = input.ToJson();
        await notifications.StatusAsync(jobId, JobStatus.Pending);
        var (stored, _) = await jobs.CreateAsync(
            new NewJob(jobId, caller.TenantId, caller.KeyId, JobKinds.Index, json, null, SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(json)),
                timeProvider.GetUtcNow()),
            limits.MaxPendingPerKey, cancellationToken);
        if (stored is not null)
        {
            context.Response.Headers.RetryAfter = "2";
            return null;
        }

        context.Response.Headers.RetryAfter = "5";
        return TypedResults.Problem(
            statusCode: StatusCodes.Status429TooManyRequests, title: "Too many pending jobs",
            detail: $"This API key already has {limits.MaxPendingPerKey} jobs waiting to start; upload more as they start.",
            extensions: new Dictionary<string, object?> { ["code"] = "too_many_pending_jobs" });
    }

    internal static async Task<CollectionRecord?> FindAsync(string id, HttpContext context, CollectionStore store, CancellationToken cancellationToken) =>
        Guid.TryParse(id, out var collectionId) ? await store.GetAsync(collectionId, Caller.From(context.User).TenantId, cancellationToken) : null;

    internal static ProblemHttpResult NotFound(string id) => Problems.NotFound($"No collection '{id}' exists for this API key's tenant.");

    /// <summary>A strictly read body bound to <typeparamref name="T"/> (unknown or repeated fields refused), or its problem.</summary>
    internal static async Task<(T? Request, ProblemHttpResult? Error)> ReadAsync<T>(HttpContext context, CancellationToken cancellationToken)
        where T : class
    {
        var (body, error) = await RequestBody.ReadJsonAsync(context, cancellationToken);
        if (error is not null)
        {
            return (null, error);
        }

        using (body)
        {
            try
            {
                var options = context.RequestServices.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
                return body!.RootElement.ValueKind == JsonValueKind.Object && body.RootElement.Deserialize<T>(options) is { } request
                    ? (request, null)
                    : (null, Problems.Validation(new() { ["$"] = ["The body must be a JSON object."] }));
            }
            catch (JsonException exception)
            {
                return (null, Problems.Validation(new() { [exception.Path is { Length: > 1 } path ? path : "$"] = [exception.Message.Split(". Path:")[0]] }));
            }
        }
    }

    /// <summary>Vector index housekeeping that Postgres no longer depends on: failures are logged, not answered.</summary>
    private static async Task TryIndexAsync(IServiceProvider services, Func<VectorSets, Task> work)
    {
        if (services.GetService<VectorSets>() is not { } vectors)
        {
            return;
        }

        try
        {
            await work(vectors);
        }
        catch (StackExchange.Redis.RedisException exception)
        {
            LogIndexCleanupFailed(services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(CollectionsEndpoints)), exception);
        }
    }

    [LoggerMessage(EventId = 2501, Level = LogLevel.Warning,
        Message = "The vector index could not be cleaned up after a delete; its entries are ignored (Postgres no longer has them) until the next rebuild.")]
    private static partial void LogIndexCleanupFailed(ILogger logger, Exception exception);

    [GeneratedRegex(@"^[A-Za-z0-9 ._\-]{1,100}$")]
    private static partial Regex NamePattern();
}
