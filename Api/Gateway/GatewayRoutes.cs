namespace AspireLlm.Api.Gateway;

public static class GatewayRoutes
{
    /// <summary>Our own API families under <c>/v1</c>, which answer errors as ProblemDetails.</summary>
    private static readonly string[] OwnPaths = ["/v1/jobs", "/v1/admin", "/v1/webhooks", "/v1/agents", "/v1/collections"];

    /// <summary>
    /// Paths that answer in OpenAI's shapes (errors included), for OpenAI client libraries: every
    /// <c>/v1</c> path but our own families, so that an OpenAI route we do not serve (say
    /// <c>/v1/responses</c>) still answers its 404 in the shape the client library reads.
    /// </summary>
    public static bool SpeaksOpenAi(PathString path) =>
        path.StartsWithSegments("/v1", StringComparison.OrdinalIgnoreCase)
        && !OwnPaths.Any(prefix => path.StartsWithSegments(prefix, StringComparison.OrdinalIgnoreCase));
}
