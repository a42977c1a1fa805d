using System.Net;
using AspireLlm.Orchestration;
using AspireLlm.Orchestration.Pipeline;
using AspireLlm.Orchestration.Providers;
using AspireLlm.Orchestration.Resilience;
using AspireLlm.Orchestration.Routing;
using Microsoft.Extensions.AI;
using static AspireLlm.UnitTests.Orchestration.ScriptedChatClient;

namespace AspireLlm.UnitTests.Orchestration;

public sealed class RetryAndFallbackTests
{
    private static readonly ChatMessage[] Prompt = [new(ChatRole.User, "What is the capital of France?")];

    [Fact]
    public async Task Server_errors_are_retried_after_a_backoff_then_answer()
    {
        var pipeline = new PipelineBuilder();
        var provider = new ScriptedChatClient(Fail(500), Fail(503), Answer());
        pipeline.Add("a", provider);
        var client = pipeline.Build();

        var call = client.GetResponseAsync(Prompt);
        // Polly's jittered exponential backoff has no fixed lower bound, but it always waits: without
        // the clock moving, no retry happens.
        await Task.Delay(50);
        Assert.Equal(1, provider.Calls);

        var response = await pipeline.DriveAsync(call);

        Assert.Equal(3, provider.Calls);
        Assert.Equal("fine answer here", response.Text);
    }

    [Fact]
    public async Task Retry_after_from_the_provider_sets_the_wait()
    {
        var pipeline = new PipelineBuilder();
        var provider = new ScriptedChatClient(Fail(429, TimeSpan.FromSeconds(7)), Answer());
        pipeline.Add("a", provider);

        var call = pipeline.Build().GetResponseAsync(Prompt);
        pipeline.Time.Advance(TimeSpan.FromSeconds(6.9));
        await Task.Delay(50);
        Assert.Equal(1, provider.Calls);
        pipeline.Time.Advance(TimeSpan.FromMilliseconds(200));

        await pipeline.DriveAsync(call);
        Assert.Equal(2, provider.Calls);
    }

    [Theory]
    [InlineData(400)]
    [InlineData(422)]
    public async Task Request_errors_are_neither_retried_nor_sent_elsewhere(int status)
    {
        var pipeline = new PipelineBuilder();
        var first = new ScriptedChatClient(Fail(status));
        var second = new ScriptedChatClient(Answer());
        pipeline.Add("a", first);
        pipeline.Add("b", second);

        var error = await Assert.ThrowsAsync<ProviderHttpException>(() => pipeline.DriveAsync(pipeline.Build().GetResponseAsync(Prompt)));

        Assert.Equal((HttpStatusCode)status, error.Status);
        Assert.Equal(1, first.Calls);
        Assert.Equal(0, second.Calls);
    }

    [Fact]
    public async Task A_retry_after_beyond_the_deadline_moves_on_to_the_next_deployment_at_once()
    {
        var pipeline = new PipelineBuilder();
        var first = new ScriptedChatClient(Fail(429, TimeSpan.FromMinutes(5)));
        var second = new ScriptedChatClient(Answer("from b"));
        pipeline.Add("a", first);
        pipeline.Add("b", second);
        var context = new ModelCallContext("tenant", pipeline.Time.GetUtcNow() + TimeSpan.FromSeconds(30));

        var response = await pipeline.Build().GetResponseAsync(Prompt, new ChatOptions().WithCallContext(context));

        Assert.Equal("from b", response.Text);
        Assert.Equal(1, first.Calls);
        Assert.Equal(["a: rate_limited"], context.Fallbacks);
        Assert.Equal("b", response.AdditionalProperties?[FallbackChatClient.DeploymentProperty]);
    }

    [Fact]
    public async Task Exhausted_retries_fall_back_through_groups_in_order()
    {
        var pipeline = new PipelineBuilder();
        var a = new ScriptedChatClient(Fail(500));
        var b = new ScriptedChatClient(Fail(502));
        var c = new ScriptedChatClient(Answer("from c"));
        pipeline.Add("a", a);
        pipeline.Add("b", b);
        pipeline.NextGroup().Add("c", c);
        var context = new ModelCallContext("tenant");

        var response = await pipeline.DriveAsync(pipeline.Build().GetResponseAsync(Prompt, new ChatOptions().WithCallContext(context)));

        Assert.Equal("from c", response.Text);
        Assert.Equal((3, 3, 1), (a.Calls, b.Calls, c.Calls));
        Assert.Equal(["a: server_error", "b: server_error"], context.Fallbacks);
    }

    [Fact]
    public async Task An_attempt_that_hangs_times_out_and_is_retried()
    {
        var pipeline = new PipelineBuilder();
        var provider = new ScriptedChatClient(Hang(), Answer());
        pipeline.Add("a", provider, options => options.AttemptTimeout = TimeSpan.FromSeconds(2));

        var response = await pipeline.DriveAsync(pipeline.Build().GetResponseAsync(Prompt));

        Assert.Equal(2, provider.Calls);
        Assert.Equal("fine answer here", response.Text);
    }

    [Fact]
    public async Task The_callers_deadline_bounds_retries_and_fallbacks()
    {
        var pipeline = new PipelineBuilder();
        pipeline.Add("a", new ScriptedChatClient(Hang()), options => options.AttemptTimeout = TimeSpan.FromSeconds(20));
        pipeline.Add("b", new ScriptedChatClient(Hang()), options => options.AttemptTimeout = TimeSpan.FromSeconds(20));
        var context = new ModelCallContext("tenant", pipeline.Time.GetUtcNow() + TimeSpan.FromSeconds(5));

        var call = pipeline.Build().GetResponseAsync(Prompt, new ChatOptions().WithCallContext(context));
        var error = await Assert.ThrowsAsync<ModelUnavailableException>(() => pipeline.DriveAsync(call));

        // The driver keeps moving the clock (100 ms a step) while the failure makes its way out, and a busy
        // machine lets it take more steps, so the bound is the attempt timeout: ending before any attempt
        // could have timed out proves it was the deadline that ended the call.
        Assert.Contains("deadline", error.Message);
        Assert.InRange(pipeline.Time.GetUtcNow() - new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(19));
    }

    [Fact]
    public async Task A_caller_who_leaves_mid_call_is_still_charged_the_prompt()
    {
        var pipeline = new PipelineBuilder();
        pipeline.Add("a", new ScriptedChatClient(Hang()));
        var context = new ModelCallContext("tenant");
        using var cancellation = new CancellationTokenSource();

        var call = pipeline.Build().GetResponseAsync(Prompt, new ChatOptions().WithCallContext(context), cancellation.Token);
        await Task.Delay(50);
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.True(context.UsageIsPartial);
        Assert.True(context.InputTokens > 0);
        Assert.Equal(0, context.OutputTokens);
        Assert.True(context.Cost > 0);
    }

    [Fact]
    public async Task Usage_and_cost_come_back_with_the_answer_in_exact_decimals()
    {
        var pipeline = new PipelineBuilder();
        pipeline.Add("a", new ScriptedChatClient(Answer(input: 1_000, output: 500)), options =>
        {
            options.InputPricePerMillion = 0.15m;
            options.OutputPricePerMillion = 0.60m;
        });
        var context = new ModelCallContext("tenant");

        var response = await pipeline.Build().GetResponseAsync(Prompt, new ChatOptions().WithCallContext(context));

        // 1000 × 0.15 / 1e6 + 500 × 0.60 / 1e6 = 0.00015 + 0.0003
        Assert.Equal(0.00045m, context.Cost);
        Assert.Equal(0.00045m, response.AdditionalProperties?[FallbackChatClient.CostProperty]);
        Assert.Equal((1_000, 500), (context.InputTokens, context.OutputTokens));
    }

    [Fact]
    public async Task A_prompt_too_large_for_a_deployment_goes_to_one_with_a_larger_window()
    {
        var pipeline = new PipelineBuilder();
        var small = new ScriptedChatClient(Answer("small"));
        var large = new ScriptedChatClient(Answer("large"));
        pipeline.Add("small", small, options => { options.ContextWindow = 20; options.MaxOutputTokens = 10; });
        pipeline.Add("large", large, options => options.ContextWindow = 100_000);
        var longPrompt = new[] { new ChatMessage(ChatRole.User, string.Join(' ', Enumerable.Repeat("word", 50))) };

        var response = await pipeline.Build().GetResponseAsync(longPrompt);

        Assert.Equal("large", response.Text);
        Assert.Equal(0, small.Calls);
    }

    [Fact]
    public async Task A_prompt_too_large_for_every_deployment_is_refused_as_such()
    {
        var pipeline = new PipelineBuilder();
        pipeline.Add("small", new ScriptedChatClient(Answer()), options => { options.ContextWindow = 20; options.MaxOutputTokens = 10; });
        var longPrompt = new[] { new ChatMessage(ChatRole.User, string.Join(' ', Enumerable.Repeat("word", 50))) };

        var error = await Assert.ThrowsAsync<PromptTooLargeException>(() => pipeline.Build().GetResponseAsync(longPrompt));

        Assert.Equal(20, error.LargestContextWindow);
        Assert.Contains("more than 20 tokens", error.Message);
    }

    [Fact]
    public async Task The_provider_sees_the_deployment_model_and_none_of_our_properties()
    {
        var pipeline = new PipelineBuilder();
        var provider = new ScriptedChatClient(Answer());
        pipeline.Add("gpt-real", provider, options => options.MaxOutputTokens = 100);

        await pipeline.Build().GetResponseAsync(Prompt, new ChatOptions { ModelId = "alias", MaxOutputTokens = 5000 }.WithCallContext(new("t")));

        var seen = Assert.Single(provider.SeenOptions)!;
        Assert.Equal("gpt-real", seen.ModelId);
        Assert.Equal(100, seen.MaxOutputTokens);
        Assert.Null(seen.AdditionalProperties);
    }

    [Fact]
    public void Weighted_groups_spread_first_picks_by_weight()
    {
        var pipeline = new PipelineBuilder { Strategy = RoutingStrategy.Weighted };
        pipeline.Add("heavy", new ScriptedChatClient(Answer()), options => options.Weight = 9);
        pipeline.Add("light", new ScriptedChatClient(Answer()), options => options.Weight = 1);
        var group = pipeline.Route().Groups[0];

        var heavyFirst = Enumerable.Range(0, 2000).Count(_ => group.InOrder()[0].Name == "heavy");

        Assert.InRange(heavyFirst, 1650, 1950);
    }

    [Fact]
    public void Least_latency_groups_try_unmeasured_then_fastest_first()
    {
        var pipeline = new PipelineBuilder { Strategy = RoutingStrategy.LeastLatency };
        var slow = pipeline.Add("slow", new ScriptedChatClient(Answer()));
        var fast = pipeline.Add("fast", new ScriptedChatClient(Answer()));
        pipeline.Add("new", new ScriptedChatClient(Answer()));
        slow.Latency.Record(TimeSpan.FromMilliseconds(900));
        fast.Latency.Record(TimeSpan.FromMilliseconds(100));

        Assert.Equal(["new", "fast", "slow"], pipeline.Route().Groups[0].InOrder().Select(d => d.Name));
    }
}
