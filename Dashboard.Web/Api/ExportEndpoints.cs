namespace AspireLlm.Dashboard.Web.Api;

/// <summary>Downloads the browser cannot fetch from the Api itself (it has no admin key): the usage CSV, read through the typed client.</summary>
internal static class ExportEndpoints
{
    public static IEndpointRouteBuilder MapExportEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/export/usage.csv", async (AdminApiClient api, HttpContext context, CancellationToken cancellationToken) =>
        {
            var query = context.Request.Query;
            var filter = new UsageFilter(
                DateOnly.TryParse(query["from"], out var from) ? from : null, DateOnly.TryParse(query["to"], out var to) ? to : null,
                query["group_by"] is { Count: > 0 } groupBy && groupBy.ToString() is { Length: > 0 } group ? group : "key",
                query["tenant_id"], Guid.TryParse(query["key_id"], out var keyId) ? keyId : null, query["model_alias"]);
            var csv = await api.GetUsageCsvAsync(filter, cancellationToken);
            return Results.File(csv, "text/csv; charset=utf-8", $"usage-by-{filter.GroupBy}.csv");
        }).RequireAuthorization();
        return routes;
    }
}
