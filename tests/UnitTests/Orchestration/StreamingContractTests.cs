using AspireLlm.Orchestration.Pipeline;
using AspireLlm.Orchestration.Routing;
using AspireLlm.Tests.Shared;
using Microsoft.Extensions.AI;
using static AspireLlm.UnitTests.Orchestration.ScriptedChatClient;

namespace AspireLlm.UnitTests.Orchestration;

public sealed class StreamingContractTests
{
    private static readonly ChatMessage[] Prompt = [new(ChatRole.User, "Tell me a story")];

    [Fact]
    public async Task A_failure_before_the_first_chunk_falls_back_unseen()
    {
        var pipeline = new PipelineBuilder();
        pipeline.Resilience.MaxRetries = 0;
        var a = new ScriptedChatClient(Fail(500));
        var b = new ScriptedChatClient(Answer("alpha beta"));
        pipeline.Add("a", a);
        pipeline.Add("b", b);

        var (chunks, error) = await StreamReading.ReadAsync(pipeline.Build().GetStreamingResponseAsync(Prompt));

        Assert.Null(error);
        Assert.Equal(["alpha", " beta"], chunks);
        Assert.Equal((1, 1), (a.Calls, b.Calls));
    }

    [Fact]
    public async Task A_failure_after_the_first_chunk_ends_the_stream_with_an_error_and_no_fallback()
    {
        var pipeline = new PipelineBuilder();
        var a = new ScriptedChatClient(BreakAfter(2));
        var b = new ScriptedChatClient(Answer("should not be used"));
        pipeline.Add("a", a);
        pipeline.Add("b", b);
        var context = new ModelCallContext("t");

        var (chunks, error) = await StreamReading.ReadAsync(pipeline.Build().GetStreamingResponseAsync(Prompt, new ChatOptions().WithCallContext(context)));

        Assert.Equal(["one", " two"], chunks);
        var interrupted = Assert.IsType<StreamInterruptedException>(error);
        Assert.Equal("a", interrupted.Deployment);
        Assert.Equal(0, b.Calls);
        Assert.True(context.UsageIsPartial);
        Assert.True(context.OutputTokens > 0);
    }

    [Fact]
    public async Task A_stream_that_ends_without_saying_it_is_complete_is_an_error_not_a_short_answer()
    {
        var pipeline = new PipelineBuilder();
        pipeline.Add("a", new ScriptedChatClient(NoFinish()));

        var (chunks, error) = await StreamReading.ReadAsync(pipeline.Build().GetStreamingResponseAsync(Prompt));

        Assert.Equal(3, chunks.Count);
        Assert.Contains("without saying it was complete", Assert.IsType<StreamInterruptedException>(error).Message);
    }

    [Fact]
    public async Task A_complete_stream_ends_with_the_deployment_its_usage_and_cost()
    {
        var pipeline = new PipelineBuilder();
        pipeline.Add("a", new ScriptedChatClient(Answer("alpha beta", input: 1_000_000, output: 1_000_000)));
        var context = new ModelCallContext("t");

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in pipeline.Build().GetStreamingResponseAsync(Prompt, new ChatOptions().WithCallContext(context)))
        {
            updates.Add(update);
        }

        var response = updates.ToChatResponse();
        Assert.Equal("alpha beta", response.Text);
        Assert.Equal(3m, response.AdditionalProperties?[FallbackChatClient.CostProperty]);
        Assert.Equal(3m, context.Cost);
        Assert.False(context.UsageIsPartial);
        Assert.Equal("a", context.Deployment);
    }

    [Fact]
    public async Task Caller_cancellation_stops_the_provider_and_the_partial_usage_is_still_recorded()
    {
        var pipeline = new PipelineBuilder();
        var provider = new ScriptedChatClient(Answer(string.Join(' ', Enumerable.Repeat("word", 200))));
        pipeline.Add("a", provider);
        pipeline.Add("b", new ScriptedChatClient(Answer()));
        var context = new ModelCallContext("t");
        using var cancellation = new CancellationTokenSource();

        var (chunks, error) = await StreamReading.ReadAsync(
            pipeline.Build().GetStreamingResponseAsync(Prompt, new ChatOptions().WithCallContext(context), cancellation.Token), cancelAfter: 5, cancellation);

        Assert.IsAssignableFrom<OperationCanceledException>(error);
        Assert.InRange(chunks.Count, 5, 6);
        Assert.Equal(1, provider.Calls);
        Assert.True(context.UsageIsPartial);
        Assert.InRange(context.OutputTokens, 5, 6);
        Assert.True(context.InputTokens > 0);
    }
}
