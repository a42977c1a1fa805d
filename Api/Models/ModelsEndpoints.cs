using AspireLlm.Orchestration.Routing;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AspireLlm.Api.Models;

/// <summary>OpenAI's model list shape, so client libraries can discover the aliases we route.</summary>
public sealed record ModelList(string Object, IReadOnlyList<ModelEntry> Data);

public sealed record ModelEntry(string Id, string Object, long Created, string OwnedBy);

public static class ModelsEndpoints
{
    public static IEndpointRouteBuilder MapModelsEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGroup("/v1/models").WithTags("Models").RequireAuthorization()
            .MapGet("/", List).WithName("ListModels");
        return routes;
    }

    /// <summary>The chat and embedding aliases this key may use.</summary>
    internal static Ok<ModelList> List(HttpContext context, ModelCatalog catalog, Orchestration.Embeddings.EmbeddingCatalog embeddings)
    {
        var key = ApiKeys.Caller.KeyOf(context);
        return TypedResults.Ok(new ModelList("list",
            [.. catalog.Aliases.Concat(embeddings.Aliases).Where(key.Limits.Allows).Select(alias => new ModelEntry(alias, "model", 0, "aspirellm"))]));
    }
}
