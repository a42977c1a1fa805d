namespace AspireLlm.Tests.Shared.FakeProviders;

/// <summary>The wire protocols the fake server speaks, as recorded in <see cref="RecordedRequest.Protocol"/>.</summary>
public static class FakeProtocols
{
    /// <summary>OpenAI Chat Completions (also Azure OpenAI's v1 API): POST .../chat/completions.</summary>
    public const string OpenAi = "openai";

    /// <summary>Anthropic Messages: POST .../v1/messages.</summary>
    public const string Anthropic = "anthropic";

    /// <summary>The protocol a request path belongs to, or null when the fake does not serve it.</summary>
    internal static string? ForPath(string path)
    {
        // Suffix matching, so any deployment prefix (/v1, /openai/v1, ...) works without configuration.
        if (path.EndsWith("/chat/completions", StringComparison.OrdinalIgnoreCase))
        {
            return OpenAi;
        }

        if (path.EndsWith("/v1/messages", StringComparison.OrdinalIgnoreCase))
        {
            return Anthropic;
        }

        return null;
    }
}
