extern alias worker;

using System.Text.Json;
using AspireLlm.Orchestration.Pipeline;
using Microsoft.Extensions.AI;
using ChatCompletionResult = worker::AspireLlm.Worker.Jobs.ChatCompletionResult;

namespace AspireLlm.ServiceTests.Worker;

/// <summary>A chat job's result is the answer the gateway would have sent for the same call.</summary>
public sealed class ChatCompletionResultTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_result_keeps_the_models_tool_calls_as_the_gateway_sends_them()
    {
        var call = new FunctionCallContent("call_1", "get_weather", new Dictionary<string, object?> { ["city"] = "Paris" });
        var response = new ChatResponse(new ChatMessage(ChatRole.Assistant, [call]))
        {
            ResponseId = "chatcmpl-provider-1",
            FinishReason = ChatFinishReason.ToolCalls,
            Usage = new UsageDetails { InputTokenCount = 12, OutputTokenCount = 8 },
        };

        var result = ChatCompletionResult.From(response, "gpt-4o-mini", Now, new ModelCallContext("tenant")).Result;

        var choice = result.GetProperty("choices")[0];
        var toolCall = choice.GetProperty("message").GetProperty("tool_calls")[0];
        Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(JsonValueKind.Null, choice.GetProperty("message").GetProperty("content").ValueKind);
        Assert.Equal("call_1", toolCall.GetProperty("id").GetString());
        Assert.Equal("get_weather", toolCall.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("Paris", JsonDocument.Parse(toolCall.GetProperty("function").GetProperty("arguments").GetString()!).RootElement.GetProperty("city").GetString());
        Assert.Equal("chatcmpl-provider-1", result.GetProperty("id").GetString());
        Assert.Equal("gpt-4o-mini", result.GetProperty("model").GetString());
        Assert.Equal(Now.ToUnixTimeSeconds(), result.GetProperty("created").GetInt64());
        Assert.Equal(20, result.GetProperty("usage").GetProperty("total_tokens").GetInt32());
        Assert.False(result.GetProperty("usage").TryGetProperty("cache_hit", out _));
    }

    [Theory]
    [InlineData("hit", "exact")]
    [InlineData("stale", "exact")]
    [InlineData("semantic_hit", "semantic")]
    public void A_cached_answer_is_marked_as_the_gateway_marks_it(string cacheOutcome, string cacheHit)
    {
        var response = new ChatResponse(new ChatMessage(ChatRole.Assistant, "From the cache."))
        {
            FinishReason = ChatFinishReason.Stop,
            Usage = new UsageDetails { InputTokenCount = 5, OutputTokenCount = 3 },
            AdditionalProperties = new() { [ModelCallContext.ResponseCacheProperty] = cacheOutcome },
        };

        var result = ChatCompletionResult.From(response, "gpt-4o-mini", Now, new ModelCallContext("tenant")).Result;

        Assert.Equal("From the cache.", result.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal(cacheHit, result.GetProperty("usage").GetProperty("cache_hit").GetString());
    }
}
