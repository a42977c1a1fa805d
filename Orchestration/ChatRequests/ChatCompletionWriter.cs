using System.Text.Json;
using System.Text.Json.Nodes;
using AspireLlm.Orchestration.Pipeline;
using AspireLlm.Orchestration.Retrieval;
using Microsoft.Extensions.AI;

namespace AspireLlm.Orchestration.ChatRequests;

/// <summary>
/// An answer in OpenAI's <c>chat.completion</c> shape: the one writer for the gateway's answers and for
/// chat jobs' and batch items' results, so a job's result carries exactly what the gateway would have
/// sent (its tool calls included). The model named is the alias the caller asked for; which deployment
/// answered is ours to know, not a detail clients should couple to.
/// </summary>
public static class ChatCompletionWriter
{
    /// <summary>How the completion objects are serialised (OpenAI's snake_case names are spelt out).</summary>
    public static JsonSerializerOptions Json => JsonSerializerOptions.Web;

    /// <summary>
    /// The completion; a cached answer's usage says so (<c>cache_hit</c>: <c>exact</c> or <c>semantic</c>), and a
    /// grounded one carries its <c>citations</c> and <c>retrieval</c> status.
    /// </summary>
    public static object Completion(ChatResponse response, string alias, string? id, long created, GroundingResult? grounding = null)
    {
        var completion = PlainCompletion(response, alias, id, created);
        if (grounding is null)
        {
            return completion;
        }

        var node = JsonSerializer.SerializeToNode(completion, Json)!.AsObject();
        foreach (var (name, value) in grounding.ResponseFields())
        {
            node[name] = JsonSerializer.SerializeToNode(value, Json);
        }

        return node;
    }

    /// <param name="cacheHit">For a cached answer, which cache: <c>exact</c> or <c>semantic</c>.</param>
    public static object? Usage(UsageDetails? usage, string? cacheHit = null)
    {
        if (usage is null)
        {
            return null;
        }

        var (prompt, completion) = (usage.InputTokenCount ?? 0, usage.OutputTokenCount ?? 0);
        var total = usage.TotalTokenCount ?? prompt + completion;
        return cacheHit is null
            ? new { prompt_tokens = prompt, completion_tokens = completion, total_tokens = total }
            : new { prompt_tokens = prompt, completion_tokens = completion, total_tokens = total, cache_hit = cacheHit };
    }

    public static string? FinishReason(ChatFinishReason? reason) =>
        reason is null ? null
        : reason == ChatFinishReason.Length ? "length"
        : reason == ChatFinishReason.ContentFilter ? "content_filter"
        : reason == ChatFinishReason.ToolCalls ? "tool_calls"
        : "stop";

    /// <summary>A tool call's arguments as OpenAI sends them: a JSON object in a string.</summary>
    public static string Arguments(FunctionCallContent call) =>
        JsonSerializer.Serialize(call.Arguments ?? new Dictionary<string, object?>(), AIJsonUtilities.DefaultOptions);

    private static object PlainCompletion(ChatResponse response, string alias, string? id, long created) => new
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
                finish_reason = FinishReason(response.FinishReason) ?? "stop",
                logprobs = (object?)null,
            },
        },
        usage = Usage(response.Usage, CacheHitOf(response)),
    };

    private static string? CacheHitOf(ChatResponse response) =>
        response.AdditionalProperties?.GetValueOrDefault(ModelCallContext.ResponseCacheProperty) switch
        {
            "semantic_hit" => "semantic",
            string => "exact",
            _ => null,
        };

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
}
