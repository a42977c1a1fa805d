using System.Text.Json;
using AspireLlm.Orchestration.Jobs;
using AspireLlm.Orchestration.Pipeline;
using Microsoft.Extensions.AI;

namespace AspireLlm.Worker.Jobs;

/// <summary>A finished completion in OpenAI's <c>chat.completion</c> shape, plus the usage to charge.</summary>
internal sealed record ChatCompletionResult(JsonElement Result, JsonElement Usage, UsageEntry Charge)
{
    /// <summary>
    /// What the pipeline spent on the call: every provider call it made (a structured-output repair
    /// is a second one), nothing for a cached answer. Charged even when the call was cut short.
    /// </summary>
    public static UsageEntry ChargeOf(ModelCallContext call, string alias) =>
        new(alias, call.Deployment ?? alias, (int)call.InputTokens, (int)call.OutputTokens, call.Cost);

    public static ChatCompletionResult From(
        ChatResponse response, string alias, DateTimeOffset now, ModelCallContext call, Orchestration.Retrieval.GroundingResult? grounding = null)
    {
        var inputTokens = (int)(response.Usage?.InputTokenCount ?? 0);
        var outputTokens = (int)(response.Usage?.OutputTokenCount ?? 0);
        var usage = new
        {
            prompt_tokens = inputTokens,
            completion_tokens = outputTokens,
            total_tokens = inputTokens + outputTokens,
        };
        var result = new
        {
            id = response.ResponseId,
            @object = "chat.completion",
            created = (response.CreatedAt ?? now).ToUnixTimeSeconds(),
            model = alias,
            choices = new[]
            {
                new
                {
                    index = 0,
                    message = new { role = "assistant", content = response.Text },
                    finish_reason = FinishReason(response.FinishReason),
                },
            },
            usage,
        };

        var json = JsonSerializer.SerializeToNode(result)!.AsObject();
        if (response.AdditionalProperties?.GetValueOrDefault(ModelCallContext.ResponseCacheProperty) is string cache)
        {
            // A cached answer is marked as the gateway marks it, and charged nothing.
            json["usage"]!["cache_hit"] = cache == "semantic_hit" ? "semantic" : "exact";
        }
        foreach (var (name, value) in grounding?.ResponseFields() ?? new Dictionary<string, object?>())
        {
            json[name] = JsonSerializer.SerializeToNode(value);
        }

        return new ChatCompletionResult(
            JsonSerializer.SerializeToElement(json),
            JsonSerializer.SerializeToElement(usage),
            ChargeOf(call, alias));
    }

    private static string FinishReason(ChatFinishReason? reason) =>
        reason == ChatFinishReason.Length ? "length"
        : reason == ChatFinishReason.ContentFilter ? "content_filter"
        : reason == ChatFinishReason.ToolCalls ? "tool_calls"
        : "stop";
}
