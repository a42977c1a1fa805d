using System.Text.Json;

namespace AspireLlm.Tests.Shared.FakeProviders;

/// <summary>One request the fake provider received, kept so tests can assert on what the gateway really sent.</summary>
/// <param name="Protocol">"openai" or "anthropic" (see <see cref="FakeProtocols"/>).</param>
/// <param name="Path">The request path, e.g. /v1/chat/completions.</param>
/// <param name="Headers">Request headers; names compare case-insensitively, repeated values are comma-joined.</param>
/// <param name="Body">The parsed JSON body (Undefined when the body was not JSON).</param>
/// <param name="Stream">Whether the body asked for a streamed reply ("stream": true).</param>
public sealed record RecordedRequest(
    string Protocol,
    string Path,
    IReadOnlyDictionary<string, string> Headers,
    JsonElement Body,
    bool Stream)
{
    // Written by the request thread, read by the test thread.
    private volatile bool _aborted;

    /// <summary>True when the client went away while the fake was still replying (cancellation reached the provider).</summary>
    public bool Aborted
    {
        get => _aborted;
        internal set => _aborted = value;
    }

    /// <summary>The "model" the request named, or null.</summary>
    public string? Model =>
        Body.ValueKind == JsonValueKind.Object && Body.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.String
            ? model.GetString()
            : null;
}
