using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace AspireLlm.Tests.Shared.FakeProviders;

/// <summary>
/// Anthropic Messages: a "message" JSON object, or named SSE events from message_start to message_stop with
/// content blocks opened and closed around their deltas.
/// </summary>
internal sealed class AnthropicWireFormat(HttpResponse response, RecordedRequest request) : IWireFormat
{
    private readonly string _id = WireResponse.NewId("msg_");
    private readonly string _model = request.Model ?? "fake-model";
    private int _nextBlockIndex;
    private int? _openTextBlock;

    public JsonObject TextCompletion(string text, string finishReason, TokenUsage usage) =>
        Message(new JsonObject { ["type"] = "text", ["text"] = text }, finishReason, usage);

    public JsonObject ToolCallCompletion(string name, string argumentsJson, TokenUsage usage) =>
        Message(ToolUseBlock(name, JsonNode.Parse(argumentsJson)), "tool_calls", usage);

    public JsonObject ErrorBody(int status, string? code, string? message) => new()
    {
        ["type"] = "error",
        ["error"] = new JsonObject
        {
            // Anthropic has no separate code: the error type is the machine-readable part, so a given code replaces it.
            ["type"] = code ?? ErrorType(status),
            ["message"] = message ?? $"Fake provider error {status}.",
        },
    };

    public async Task StartStreamAsync(int promptTokens, CancellationToken cancellationToken)
    {
        await WireResponse.StartEventStreamAsync(response, cancellationToken);
        var message = new JsonObject
        {
            ["id"] = _id,
            ["type"] = "message",
            ["role"] = "assistant",
            ["model"] = _model,
            ["content"] = new JsonArray(),
            ["stop_reason"] = null,
            ["stop_sequence"] = null,
            // The real API reports input tokens up front and a token or so of output; the final count comes in message_delta.
            ["usage"] = Usage(new TokenUsage(promptTokens, 1)),
        };
        await EventAsync("message_start", new JsonObject { ["message"] = message }, cancellationToken);
    }

    public async Task StreamTextAsync(string piece, CancellationToken cancellationToken)
    {
        if (_openTextBlock is null)
        {
            _openTextBlock = _nextBlockIndex++;
            await StartBlockAsync(_openTextBlock.Value, new JsonObject { ["type"] = "text", ["text"] = "" }, cancellationToken);
            // The real API sends a ping early in every stream; clients must tolerate it.
            await EventAsync("ping", new JsonObject(), cancellationToken);
        }

        var delta = new JsonObject { ["type"] = "text_delta", ["text"] = piece };
        await EventAsync("content_block_delta", new JsonObject { ["index"] = _openTextBlock.Value, ["delta"] = delta }, cancellationToken);
    }

    public async Task StreamToolCallAsync(string name, string argumentsJson, CancellationToken cancellationToken)
    {
        await CloseTextBlockAsync(cancellationToken);
        var index = _nextBlockIndex++;
        // The block opens with an empty input; the arguments follow as partial JSON the client must join.
        await StartBlockAsync(index, ToolUseBlock(name, new JsonObject()), cancellationToken);
        foreach (var piece in StreamPieces.Fixed(argumentsJson, 8))
        {
            var delta = new JsonObject { ["type"] = "input_json_delta", ["partial_json"] = piece };
            await EventAsync("content_block_delta", new JsonObject { ["index"] = index, ["delta"] = delta }, cancellationToken);
        }

        await EventAsync("content_block_stop", new JsonObject { ["index"] = index }, cancellationToken);
    }

    public async Task FinishStreamAsync(string finishReason, TokenUsage usage, CancellationToken cancellationToken)
    {
        await CloseTextBlockAsync(cancellationToken);
        var delta = new JsonObject { ["stop_reason"] = StopReason(finishReason), ["stop_sequence"] = null };
        var finalUsage = new JsonObject { ["output_tokens"] = usage.CompletionTokens };
        await EventAsync("message_delta", new JsonObject { ["delta"] = delta, ["usage"] = finalUsage }, cancellationToken);
        await EventAsync("message_stop", new JsonObject(), cancellationToken);
    }

    private async Task CloseTextBlockAsync(CancellationToken cancellationToken)
    {
        if (_openTextBlock is { } index)
        {
            _openTextBlock = null;
            await EventAsync("content_block_stop", new JsonObject { ["index"] = index }, cancellationToken);
        }
    }

    private Task StartBlockAsync(int index, JsonObject block, CancellationToken cancellationToken) =>
        EventAsync("content_block_start", new JsonObject { ["index"] = index, ["content_block"] = block }, cancellationToken);

    /// <summary>Anthropic repeats the event name inside the data as "type", first; clients may read either.</summary>
    private Task EventAsync(string name, JsonObject data, CancellationToken cancellationToken)
    {
        data.Insert(0, "type", name);
        return WireResponse.WriteEventAsync(response, name, data.ToJsonString(), cancellationToken);
    }

    private JsonObject Message(JsonObject block, string finishReason, TokenUsage usage) => new()
    {
        ["id"] = _id,
        ["type"] = "message",
        ["role"] = "assistant",
        ["model"] = _model,
        ["content"] = new JsonArray(block),
        ["stop_reason"] = StopReason(finishReason),
        ["stop_sequence"] = null,
        ["usage"] = Usage(usage),
    };

    private static JsonObject ToolUseBlock(string name, JsonNode? input) => new()
    {
        ["type"] = "tool_use",
        ["id"] = WireResponse.NewId("toolu_"),
        ["name"] = name,
        ["input"] = input,
    };

    private static JsonObject Usage(TokenUsage usage) => new()
    {
        ["input_tokens"] = usage.PromptTokens,
        ["cache_creation_input_tokens"] = 0,
        ["cache_read_input_tokens"] = 0,
        ["output_tokens"] = usage.CompletionTokens,
    };

    /// <summary>Scripts speak OpenAI finish reasons; anything without an Anthropic twin passes through unchanged.</summary>
    private static string StopReason(string finishReason) => finishReason switch
    {
        "stop" => "end_turn",
        "length" => "max_tokens",
        "tool_calls" => "tool_use",
        _ => finishReason,
    };

    private static string ErrorType(int status) => status switch
    {
        400 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => status >= 500 ? "api_error" : "invalid_request_error",
    };
}
