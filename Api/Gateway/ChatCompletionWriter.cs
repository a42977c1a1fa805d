using System.Text.Json;
using System.Text.Json.Nodes;
using AspireLlm.Orchestration.Pipeline;
using AspireLlm.Orchestration.Retrieval;
using Microsoft.Extensions.AI;

namespace AspireLlm.Api.Gateway;

/// <summary>
/// Writes answers in OpenAI's shapes: a <c>chat.completion</c> object, or <c>chat.completion.chunk</c>
/// events for a stream. The model named is always the alias the caller asked for; which deployment
/// answered is ours to know, not a detail clients should couple to.
/// </summary>
public static class ChatCompletionWriter
{
    /// <summary>
    /// The completion; a cached answer's usage says so (<c>cache_hit</c>: <c>exact</c> or <c>semantic</c>), and a
    /// grounded one carries its <c>citations</c> and <c>retrieval</c> status.
    /// </summary>
    public static object Completion(ChatResponse response, string alias, string id, long created, GroundingResult? grounding = null)
    {
        var completion = PlainCompletion(response, alias, id, created);
        var cache = response.AdditionalProperties?.GetValueOrDefault(ModelCallContext.ResponseCacheProperty) as string;
        if (grounding is null && cache is null)
        {
            return completion;
        }

        var node = JsonSerializer.SerializeToNode(completion, ChatCompletionsEndpoint.Json)!.AsObject();
        if (cache is not null && node["usage"] is JsonObject usage)
        {
            usage["cache_hit"] = cache == "semantic_hit" ? "semantic" : "exact";
        }

        foreach (var (name, value) in grounding?.ResponseFields() ?? new Dictionary<string, object?>())
        {
            node[name] = JsonSerializer.SerializeToNode(value, ChatCompletionsEndpoint.Json);
        }

        return node;
    }

    /// <summary>The last event of a grounded stream: no choices, its citations and retrieval status.</summary>
    public static object CitationsChunk(string id, long created, string alias, GroundingResult grounding)
    {
        var node = JsonSerializer.SerializeToNode(new { id, @object = "chat.completion.chunk", created, model = alias, choices = Array.Empty<object>() },
            ChatCompletionsEndpoint.Json)!.AsObject();
        foreach (var (name, value) in grounding.ResponseFields())
        {
            node[name] = JsonSerializer.SerializeToNode(value, ChatCompletionsEndpoint.Json);
        }

        return node;
    }

    private static object PlainCompletion(ChatResponse response, string alias, string id, long created) => new
    {
        id,
        @object = "chat.completion",
        created,
        model = alias,
        choices = new[]
        {
            new
            {
                index = 0,
                message = Message(response),
                finish_reason = FinishReason(response.FinishReason),
                logprobs = (object?)null,
            },
        },
        usage = Usage(response.Usage),
    };

    public static object? Usage(UsageDetails? usage) => usage is null ? null : new
    {
        prompt_tokens = usage.InputTokenCount ?? 0,
        completion_tokens = usage.OutputTokenCount ?? 0,
        total_tokens = usage.TotalTokenCount ?? (usage.InputTokenCount ?? 0) + (usage.OutputTokenCount ?? 0),
    };

    public static object Chunk(string id, long created, string alias, object delta, string? finishReason) => new
    {
        id,
        @object = "chat.completion.chunk",
        created,
        model = alias,
        choices = new[] { new { index = 0, delta, finish_reason = finishReason, logprobs = (object?)null } },
    };

    public static object UsageChunk(string id, long created, string alias, UsageDetails usage) => new
    {
        id,
        @object = "chat.completion.chunk",
        created,
        model = alias,
        choices = Array.Empty<object>(),
        usage = Usage(usage),
    };

    /// <summary>The delta of one streamed update: its text and its tool calls (each call sent whole, OpenAI allows that).</summary>
    public static object? Delta(ChatResponseUpdate update, ref int toolIndex)
    {
        var text = update.Text;
        var calls = update.Contents.OfType<FunctionCallContent>().ToList();
        if (text.Length == 0 && calls.Count == 0)
        {
            return null;
        }

        var index = toolIndex;
        toolIndex += calls.Count;
        return calls.Count == 0
            ? new { content = text }
            : new
            {
                content = text.Length == 0 ? null : text,
                tool_calls = calls.Select((call, i) => new
                {
                    index = index + i,
                    id = call.CallId,
                    type = "function",
                    function = new { name = call.Name, arguments = Arguments(call) },
                }),
            };
    }

    public static string? FinishReason(ChatFinishReason? reason) =>
        reason is null ? null
        : reason == ChatFinishReason.Length ? "length"
        : reason == ChatFinishReason.ContentFilter ? "content_filter"
        : reason == ChatFinishReason.ToolCalls ? "tool_calls"
        : "stop";

    private static object Message(ChatResponse response)
    {
        var calls = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().ToList();
        var text = response.Text;
        return calls.Count == 0
            ? new { role = "assistant", content = (string?)text, refusal = (string?)null }
            : new
            {
                role = "assistant",
                content = text.Length == 0 ? null : text,
                refusal = (string?)null,
                tool_calls = calls.Select(call => new
                {
                    id = call.CallId,
                    type = "function",
                    function = new { name = call.Name, arguments = Arguments(call) },
                }),
            };
    }

    private static string Arguments(FunctionCallContent call) =>
        JsonSerializer.Serialize(call.Arguments ?? new Dictionary<string, object?>(), AIJsonUtilities.DefaultOptions);
}
