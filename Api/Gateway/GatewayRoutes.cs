namespace AspireLlm.Api.Gateway;

public static class GatewayRoutes
{
    private static readonly string[] OpenAiPaths = ["/v1/chat", "/v1/models", "/v1/embeddings", "/v1/conversations"];

    /// <summary>Paths that answer in OpenAI's shapes (errors included), for OpenAI client libraries.</summary>
    public static bool SpeaksOpenAi(PathString path) =>
        OpenAiPaths.Any(prefix => path.StartsWithSegments(prefix, StringComparison.OrdinalIgnoreCase));
}
