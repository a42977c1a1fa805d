using System.Text.Json.Nodes;

namespace AspireLlm.Tests.Shared.FakeProviders;

/// <summary>
/// What a provider protocol must be able to say. Replies are written against this, so one script plays on either
/// protocol. An instance serves one request: it holds that request's ids, model and open stream state.
/// Finish reasons are given in OpenAI's words ("stop", "length", "tool_calls"); each format translates.
/// </summary>
internal interface IWireFormat
{
    JsonObject TextCompletion(string text, string finishReason, TokenUsage usage);

    JsonObject ToolCallCompletion(string name, string argumentsJson, TokenUsage usage);

    JsonObject ErrorBody(int status, string? code, string? message);

    Task StartStreamAsync(int promptTokens, CancellationToken cancellationToken);

    Task StreamTextAsync(string piece, CancellationToken cancellationToken);

    Task StreamToolCallAsync(string name, string argumentsJson, CancellationToken cancellationToken);

    Task FinishStreamAsync(string finishReason, TokenUsage usage, CancellationToken cancellationToken);
}
