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

    internal static Ok<ModelList> List(ModelCatalog catalog) =>
        TypedResults.Ok(new ModelList("list", [.. catalog.Aliases.Select(alias => new ModelEntry(alias, "model", 0, "aspirellm"))]));
}
