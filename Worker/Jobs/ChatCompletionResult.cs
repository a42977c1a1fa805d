using System.Text.Json;
using AspireLlm.Orchestration.ChatRequests;
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
        // The result is what the gateway would have answered (tool calls, a cached answer's cache_hit,
        // a grounded answer's citations), with the provider's id and time.
        var completion = ChatCompletionWriter.Completion(response, alias, response.ResponseId, (response.CreatedAt ?? now).ToUnixTimeSeconds(), grounding);
        var inputTokens = (int)(response.Usage?.InputTokenCount ?? 0);
        var outputTokens = (int)(response.Usage?.OutputTokenCount ?? 0);
        var usage = new
        {
            prompt_tokens = inputTokens,
            completion_tokens = outputTokens,
            total_tokens = inputTokens + outputTokens,
        };

        return new ChatCompletionResult(
            JsonSerializer.SerializeToElement(completion, ChatCompletionWriter.Json),
            JsonSerializer.SerializeToElement(usage),
            ChargeOf(call, alias));
    }
}
