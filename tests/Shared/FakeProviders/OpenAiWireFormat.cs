using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace AspireLlm.Tests.Shared.FakeProviders;

/// <summary>OpenAI Chat Completions: chat.completion JSON, chat.completion.chunk SSE ending in data: [DONE].</summary>
internal sealed class OpenAiWireFormat(HttpResponse response, RecordedRequest request) : IWireFormat
{
    private readonly string _id = WireResponse.NewId("chatcmpl-");
    private readonly long _created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    private readonly string _model = request.Model ?? "fake-model";

    // The usage chunk is only sent when asked for, exactly as the real API does.
    private readonly bool _includeUsage = IncludeUsage(request.Body);

    public JsonObject TextCompletion(string text, string finishReason, TokenUsage usage) =>
        Completion(new JsonObject { ["role"] = "assistant", ["content"] = text, ["refusal"] = null }, finishReason, usage);

    public JsonObject ToolCallCompletion(string name, string argumentsJson, TokenUsage usage)
    {
        var toolCall = new JsonObject
        {
            ["id"] = WireResponse.NewId("call_"),
            ["type"] = "function",
            ["function"] = new JsonObject { ["name"] = name, ["arguments"] = argumentsJson },
        };
        var message = new JsonObject
        {
            ["role"] = "assistant",
            ["content"] = null,
            ["refusal"] = null,
            ["tool_calls"] = new JsonArray(toolCall),
        };
        return Completion(message, "tool_calls", usage);
    }

    public JsonObject ErrorBody(int status, string? code, string? message) => new()
    {
        ["error"] = new JsonObject
        {
            ["message"] = message ?? $"Fake provider error {status}.",
            ["type"] = status switch
            {
                429 => "requests",
                >= 500 => "server_error",
                _ => "invalid_request_error",
            },
            ["param"] = null,
            ["code"] = code ?? (status == 429 ? "rate_limit_exceeded" : null),
        },
    };

    public async Task StartStreamAsync(int promptTokens, CancellationToken cancellationToken)
    {
        await WireResponse.StartEventStreamAsync(response, cancellationToken);
        // The real API opens with the role and an empty content string.
        await WriteChunkAsync(new JsonObject { ["role"] = "assistant", ["content"] = "", ["refusal"] = null }, null, cancellationToken);
    }

    public Task StreamTextAsync(string piece, CancellationToken cancellationToken) =>
        WriteChunkAsync(new JsonObject { ["content"] = piece }, null, cancellationToken);

    public async Task StreamToolCallAsync(string name, string argumentsJson, CancellationToken cancellationToken)
    {
        // First chunk names the call, later ones carry argument fragments keyed by the same index.
        var opening = new JsonObject
        {
            ["index"] = 0,
            ["id"] = WireResponse.NewId("call_"),
            ["type"] = "function",
            ["function"] = new JsonObject { ["name"] = name, ["arguments"] = "" },
        };
        await WriteChunkAsync(new JsonObject { ["tool_calls"] = new JsonArray(opening) }, null, cancellationToken);
        foreach (var piece in StreamPieces.Fixed(argumentsJson, 8))
        {
            var fragment = new JsonObject { ["index"] = 0, ["function"] = new JsonObject { ["arguments"] = piece } };
            await WriteChunkAsync(new JsonObject { ["tool_calls"] = new JsonArray(fragment) }, null, cancellationToken);
        }
    }

    public async Task FinishStreamAsync(string finishReason, TokenUsage usage, CancellationToken cancellationToken)
    {
        await WriteChunkAsync(new JsonObject(), finishReason, cancellationToken);
        if (_includeUsage)
        {
            var usageChunk = ChunkEnvelope(new JsonArray());
            usageChunk["usage"] = Usage(usage);
            await WireResponse.WriteEventAsync(response, null, usageChunk.ToJsonString(), cancellationToken);
        }

        await WireResponse.WriteEventAsync(response, null, "[DONE]", cancellationToken);
    }

    private Task WriteChunkAsync(JsonObject delta, string? finishReason, CancellationToken cancellationToken)
    {
        var choice = new JsonObject
        {
            ["index"] = 0,
            ["delta"] = delta,
            ["logprobs"] = null,
            ["finish_reason"] = finishReason,
        };
        var chunk = ChunkEnvelope(new JsonArray(choice));
        if (_includeUsage)
        {
            chunk["usage"] = null;
        }

        return WireResponse.WriteEventAsync(response, null, chunk.ToJsonString(), cancellationToken);
    }

    private JsonObject ChunkEnvelope(JsonArray choices) => new()
    {
        ["id"] = _id,
        ["object"] = "chat.completion.chunk",
        ["created"] = _created,
        ["model"] = _model,
        ["choices"] = choices,
    };

    private JsonObject Completion(JsonObject message, string finishReason, TokenUsage usage) => new()
    {
        ["id"] = _id,
        ["object"] = "chat.completion",
        ["created"] = _created,
        ["model"] = _model,
        ["choices"] = new JsonArray(new JsonObject
        {
            ["index"] = 0,
            ["message"] = message,
            ["logprobs"] = null,
            ["finish_reason"] = finishReason,
        }),
        ["usage"] = Usage(usage),
    };

    private static JsonObject Usage(TokenUsage usage) => new()
    {
        ["prompt_tokens"] = usage.PromptTokens,
        ["completion_tokens"] = usage.CompletionTokens,
        ["total_tokens"] = usage.PromptTokens + usage.CompletionTokens,
    };

    private static bool IncludeUsage(JsonElement body) =>
        body.ValueKind == JsonValueKind.Object
        && body.TryGetProperty("stream_options", out var options)
        && options.ValueKind == JsonValueKind.Object
        && options.TryGetProperty("include_usage", out var include)
        && include.ValueKind == JsonValueKind.True;
}
