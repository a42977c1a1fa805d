using System.Net;
using AspireLlm.Orchestration.Pipeline;
using AspireLlm.Orchestration.Providers;
using AspireLlm.Orchestration.Resilience;
using AspireLlm.Orchestration.Routing;
using AspireLlm.Tests.Shared;
using AspireLlm.Tests.Shared.FakeProviders;
using Microsoft.Extensions.AI;

namespace AspireLlm.ServiceTests.Pipeline;

/// <summary>
/// The pipeline over the real OpenAI and Anthropic SDKs, against local servers speaking their
/// protocols: retries happen only where they should, fallbacks go in order, the streaming
/// contract holds and cancellation reaches the server. Nothing leaves the machine.
/// </summary>
public sealed class WireProtocolTests : IClassFixture<ProviderFixture>, IAsyncLifetime
{
    private static readonly ChatMessage[] Prompt = [new(ChatRole.User, "Say hello")];
    private readonly ProviderFixture _providers;

    public WireProtocolTests(ProviderFixture providers) => _providers = providers;

    public async Task InitializeAsync()
    {
        // Each test scripts both servers afresh.
        await _providers.DisposeAsync();
        await _providers.InitializeAsync();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private IChatClient Chat(Action<AspireLlm.Orchestration.OrchestrationOptions>? configure = null) =>
        _providers.Catalog(_providers.Options(configure)).GetChatClient("chat");

    [Fact]
    public async Task OpenAI_answer_carries_usage_cost_and_the_deployment()
    {
        _providers.OpenAi.Enqueue(FakeReply.Text("Hello from OpenAI", promptTokens: 1000, completionTokens: 1000));
        var context = new ModelCallContext("tenant");

        var response = await Chat().GetResponseAsync(Prompt, new ChatOptions().WithCallContext(context));

        Assert.Equal("Hello from OpenAI", response.Text);
        Assert.Equal(0.00075m, context.Cost);
        Assert.Equal("primary", context.Deployment);
        var request = Assert.Single(_providers.OpenAi.Requests);
        Assert.Equal("gpt-4o-mini", request.Model);
        Assert.Equal("Bearer " + ProviderFixture.OpenAiKey, request.Headers["Authorization"]);
    }

    [Fact]
    public async Task A_429_with_retry_after_is_retried_after_the_wait_then_answers()
    {
        _providers.OpenAi.Enqueue(FakeReply.Error(429, retryAfterSeconds: 1), FakeReply.Text("Second time lucky"));
        var started = DateTimeOffset.UtcNow;

        var response = await Chat().GetResponseAsync(Prompt);

        Assert.Equal("Second time lucky", response.Text);
        Assert.Equal(2, _providers.OpenAi.RequestCount);
        Assert.True(DateTimeOffset.UtcNow - started >= TimeSpan.FromSeconds(0.9), "the Retry-After of 1 s was not honoured");
        Assert.Equal(0, _providers.Anthropic.RequestCount);
    }

    [Theory]
    [InlineData(400)]
    [InlineData(422)]
    public async Task A_request_error_is_not_retried_and_not_sent_to_the_fallback(int status)
    {
        _providers.OpenAi.Enqueue(FakeReply.Error(status, message: "Invalid 'messages': call me at +44 20 7946 0958"));

        var error = await Assert.ThrowsAsync<ProviderHttpException>(() => Chat().GetResponseAsync(Prompt));

        Assert.Equal((HttpStatusCode)status, error.Status);
        Assert.Equal(1, _providers.OpenAi.RequestCount);
        Assert.Equal(0, _providers.Anthropic.RequestCount);
        Assert.DoesNotContain("7946", error.Message);
    }

    [Fact]
    public async Task Server_errors_exhaust_retries_then_fall_back_to_the_next_provider()
    {
        _providers.OpenAi.Default = FakeReply.Error(500);
        _providers.Anthropic.Enqueue(FakeReply.Text("Hello from Claude", promptTokens: 100, completionTokens: 10));
        var context = new ModelCallContext("tenant");

        var response = await Chat().GetResponseAsync(Prompt, new ChatOptions().WithCallContext(context));

        Assert.Equal("Hello from Claude", response.Text);
        Assert.Equal(3, _providers.OpenAi.RequestCount);
        Assert.Equal(1, _providers.Anthropic.RequestCount);
        Assert.Equal(["primary: server_error"], context.Fallbacks);
        Assert.Equal("backup", context.Deployment);
        Assert.Equal(0.00045m, context.Cost);
    }

    [Fact]
    public async Task The_breaker_opens_skips_the_dead_provider_and_half_opens_after_the_break()
    {
        var catalog = _providers.Catalog(_providers.Options(options =>
        {
            options.Resilience.MaxRetries = 0;
            options.Resilience.Breaker.ConsecutiveFailures = 2;
        }));
        var chat = catalog.GetChatClient("chat");
        _providers.OpenAi.Default = FakeReply.Error(503);

        await chat.GetResponseAsync(Prompt);
        await chat.GetResponseAsync(Prompt);
        Assert.Equal(BreakerState.Open, catalog.GetRoute("chat").Groups[0].Deployments[0].Breaker.State);
        await chat.GetResponseAsync(Prompt);
        Assert.Equal(2, _providers.OpenAi.RequestCount); // the third call went straight to the backup

        await Task.Delay(TimeSpan.FromSeconds(1.1));
        _providers.OpenAi.Default = FakeReply.Text("Back again");
        var response = await chat.GetResponseAsync(Prompt);

        Assert.Equal("Back again", response.Text);
        Assert.Equal(3, _providers.OpenAi.RequestCount);
        Assert.Equal(BreakerState.Closed, catalog.GetRoute("chat").Groups[0].Deployments[0].Breaker.State);
    }

    [Fact]
    public async Task Anthropic_answers_streams_and_is_retried_on_429()
    {
        var chat = Chat(options => options.Models["chat"].Groups.RemoveAt(0));
        _providers.Anthropic.Enqueue(FakeReply.Error(429, retryAfterSeconds: 0), FakeReply.Text("Sync from Claude"), FakeReply.Text("Streamed from Claude"));

        var response = await chat.GetResponseAsync(Prompt);
        var streamed = await StreamReading.ReadAsync(chat.GetStreamingResponseAsync(Prompt));

        Assert.Equal("Sync from Claude", response.Text);
        Assert.Equal("Streamed from Claude", string.Concat(streamed.Chunks));
        Assert.Null(streamed.Error);
        Assert.Equal(3, _providers.Anthropic.RequestCount);
        Assert.Equal("claude-sonnet-4-5", _providers.Anthropic.Requests[0].Model);
    }

    [Fact]
    public async Task A_stream_that_breaks_before_its_first_chunk_falls_back()
    {
        _providers.OpenAi.Default = FakeReply.BrokenStream("never seen", chunksBeforeBreak: 0);
        _providers.Anthropic.Enqueue(FakeReply.Text("Claude steps in"));

        var (chunks, error) = await StreamReading.ReadAsync(Chat().GetStreamingResponseAsync(Prompt));

        Assert.Null(error);
        Assert.Equal("Claude steps in", string.Concat(chunks));
    }

    [Fact]
    public async Task A_stream_that_breaks_mid_way_ends_with_an_error_and_is_not_resent()
    {
        _providers.OpenAi.Enqueue(FakeReply.BrokenStream("one two three four five", chunksBeforeBreak: 2));
        var context = new ModelCallContext("tenant");

        var (chunks, error) = await StreamReading.ReadAsync(Chat().GetStreamingResponseAsync(Prompt, new ChatOptions().WithCallContext(context)));

        Assert.Equal("one two", string.Concat(chunks));
        Assert.IsType<StreamInterruptedException>(error);
        Assert.Equal(1, _providers.OpenAi.RequestCount);
        Assert.Equal(0, _providers.Anthropic.RequestCount);
        Assert.True(context.UsageIsPartial);
    }

    [Fact]
    public async Task A_stream_that_stops_without_its_end_marker_is_an_error_not_a_short_answer()
    {
        _providers.OpenAi.Enqueue(FakeReply.TruncatedStream("one two three four", chunksBeforeEnd: 2));

        var (chunks, error) = await StreamReading.ReadAsync(Chat().GetStreamingResponseAsync(Prompt));

        Assert.Equal("one two", string.Concat(chunks));
        Assert.IsType<StreamInterruptedException>(error);
    }

    [Fact]
    public async Task Cancelling_a_stream_cancels_the_provider_request()
    {
        _providers.OpenAi.Enqueue(FakeReply.SlowStream(string.Join(' ', Enumerable.Repeat("slow", 100)), TimeSpan.FromMilliseconds(100)));
        using var cancellation = new CancellationTokenSource();
        var context = new ModelCallContext("tenant");

        var (chunks, error) = await StreamReading.ReadAsync(
            Chat().GetStreamingResponseAsync(Prompt, new ChatOptions().WithCallContext(context), cancellation.Token), cancelAfter: 3, cancellation);
        var aborted = await _providers.OpenAi.WaitForAbortedRequestAsync(TimeSpan.FromSeconds(2));

        Assert.IsAssignableFrom<OperationCanceledException>(error);
        Assert.True(aborted.Aborted);
        Assert.True(context.UsageIsPartial);
        Assert.InRange(context.OutputTokens, 3, 4);
    }

    [Fact]
    public async Task A_slow_provider_hits_the_attempt_timeout_and_the_fallback_answers()
    {
        _providers.OpenAi.Default = FakeReply.Slow(TimeSpan.FromSeconds(10), FakeReply.Text("too late"));
        _providers.Anthropic.Enqueue(FakeReply.Text("On time"));

        var response = await Chat(options =>
        {
            options.Deployments["primary"].AttemptTimeout = TimeSpan.FromMilliseconds(300);
            options.Resilience.MaxRetries = 1;
        }).GetResponseAsync(Prompt);

        Assert.Equal("On time", response.Text);
        Assert.Equal(2, _providers.OpenAi.RequestCount);
    }

    [Fact]
    public async Task Azure_OpenAI_uses_the_v1_path_and_an_api_key_header()
    {
        var chat = Chat(options =>
        {
            options.Deployments["primary"].Provider = AspireLlm.Orchestration.ProviderNames.AzureOpenAI;
            options.Deployments["primary"].Endpoint = _providers.OpenAi.BaseAddress;
            options.Deployments["primary"].Model = "my-gpt-deployment";
        });
        _providers.OpenAi.Enqueue(FakeReply.Text("Hello from Azure"));

        var response = await chat.GetResponseAsync(Prompt);

        Assert.Equal("Hello from Azure", response.Text);
        var request = Assert.Single(_providers.OpenAi.Requests);
        Assert.Equal("/openai/v1/chat/completions", request.Path);
        Assert.Equal(ProviderFixture.OpenAiKey, request.Headers["api-key"]);
        Assert.False(request.Headers.ContainsKey("Authorization"));
        Assert.Equal("my-gpt-deployment", request.Model);
    }

    [Fact]
    public async Task Tool_calls_come_back_as_function_calls()
    {
        _providers.OpenAi.Enqueue(FakeReply.ToolCall("get_weather", """{"city":"Paris"}"""));

        var response = await Chat().GetResponseAsync(Prompt, new ChatOptions
        {
            Tools = [AIFunctionFactory.CreateDeclaration("get_weather", "Weather", System.Text.Json.JsonDocument.Parse("""{"type":"object","properties":{"city":{"type":"string"}}}""").RootElement)],
        });

        var call = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
        Assert.Equal("get_weather", call.Name);
        Assert.Equal("Paris", call.Arguments?["city"]?.ToString());
        Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
    }

}
