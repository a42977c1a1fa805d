using System.Net;
using AspireLlm.Orchestration;
using AspireLlm.Orchestration.Providers;
using AspireLlm.Orchestration.Resilience;
using AspireLlm.Orchestration.Simulator;
using AspireLlm.Orchestration.Tokens;
using Microsoft.Extensions.AI;

namespace AspireLlm.UnitTests.Orchestration;

public sealed class TokensAndFaultsTests
{
    [Fact]
    public void Token_counts_use_the_model_familys_encoding()
    {
        var counter = TokenCounter.Shared;

        Assert.Equal(TokenEncoding.O200k, counter.EncodingFor(ProviderNames.OpenAI, "gpt-4o-mini"));
        Assert.Equal(TokenEncoding.Cl100k, counter.EncodingFor(ProviderNames.OpenAI, "gpt-4-turbo"));
        Assert.Equal(TokenEncoding.Cl100k, counter.EncodingFor(ProviderNames.Anthropic, "claude-sonnet-4-5"));
        Assert.Equal(2, counter.CountText("Hello world", TokenEncoding.O200k));
        // 3 primer + per message (3 + content): "Hello world" is 2 tokens in either encoding.
        Assert.Equal(8, counter.CountPrompt([new ChatMessage(ChatRole.User, "Hello world")], TokenEncoding.Cl100k));
    }

    [Fact]
    public void A_request_counts_its_tools_schema_and_images_too()
    {
        var counter = TokenCounter.Shared;
        ChatMessage[] messages = [new(ChatRole.User, [new TextContent("What is in this picture?"), new UriContent("https://example.com/cat.png", "image/png")])];
        var options = new ChatOptions
        {
            Tools = [AIFunctionFactory.CreateDeclaration("lookup", "Looks things up", System.Text.Json.JsonDocument.Parse("""{"type":"object","properties":{"q":{"type":"string"}}}""").RootElement)],
            ResponseFormat = ChatResponseFormat.ForJsonSchema(System.Text.Json.JsonDocument.Parse("""{"type":"object","properties":{"answer":{"type":"string"}}}""").RootElement),
        };

        var promptOnly = counter.CountPrompt(messages, TokenEncoding.O200k);
        var whole = counter.CountRequest(messages, options, TokenEncoding.O200k);

        Assert.True(promptOnly >= 1_000, "an image counts as a high-detail image");
        Assert.InRange(whole - promptOnly, 20, 80);
    }

    [Fact]
    public void Prices_are_exact_decimals()
    {
        var price = new ModelPrice(InputPerMillion: 2.5m, OutputPerMillion: 10m);

        Assert.Equal(0.0000325m, price.CostOf(5, 2));
        Assert.Equal(12.5m, price.CostOf(1_000_000, 1_000_000) - price.CostOf(0, 0) - 0m);
    }

    [Fact]
    public async Task Simulator_rate_limit_faults_look_like_a_providers_429_with_retry_after()
    {
        var simulator = new SimulatorChatClient(new SimulatorOptions(), TimeProvider.System, "sim",
            new SimulatorFaults { RateLimitShare = 1, RetryAfterSeconds = 4, Seed = 1 });

        var error = await Assert.ThrowsAsync<ProviderHttpException>(() => simulator.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")]));

        Assert.Equal((HttpStatusCode)429, error.Status);
        Assert.Equal(TimeSpan.FromSeconds(4), FailureClassifier.RetryAfterOf(error));
        Assert.Equal(FailureKind.RateLimited, FailureClassifier.Classify(error));
    }

    [Fact]
    public async Task Simulator_broken_streams_break_after_the_configured_chunks()
    {
        var simulator = new SimulatorChatClient(new SimulatorOptions(), TimeProvider.System, "sim",
            new SimulatorFaults { BrokenStreamShare = 1, BrokenStreamAfterChunks = 3 });
        var chunks = 0;

        await Assert.ThrowsAsync<IOException>(async () =>
        {
            await foreach (var _ in simulator.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "hi")]))
            {
                chunks++;
            }
        });
        Assert.Equal(3, chunks);
    }

    [Fact]
    public async Task Simulator_invalid_json_faults_break_json_mode()
    {
        var simulator = new SimulatorChatClient(new SimulatorOptions(), TimeProvider.System, "sim", new SimulatorFaults { InvalidJsonShare = 1 });
        var healthy = new SimulatorChatClient(new SimulatorOptions(), TimeProvider.System, "sim");
        var json = new ChatOptions { ResponseFormat = ChatResponseFormat.Json };

        var broken = await simulator.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], json);
        var fine = await healthy.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], json);

        Assert.ThrowsAny<System.Text.Json.JsonException>(() => System.Text.Json.JsonDocument.Parse(broken.Text));
        Assert.Equal(System.Text.Json.JsonValueKind.Object, System.Text.Json.JsonDocument.Parse(fine.Text).RootElement.ValueKind);
    }

    [Theory]
    [InlineData(429, FailureKind.RateLimited, true)]
    [InlineData(500, FailureKind.ServerError, true)]
    [InlineData(503, FailureKind.ServerError, true)]
    [InlineData(408, FailureKind.Timeout, true)]
    [InlineData(400, FailureKind.BadRequest, false)]
    [InlineData(401, FailureKind.Unauthorized, false)]
    [InlineData(403, FailureKind.Unauthorized, false)]
    [InlineData(404, FailureKind.NotFound, false)]
    [InlineData(422, FailureKind.BadRequest, false)]
    public void Failures_are_classified_by_status(int status, FailureKind kind, bool transient)
    {
        var error = new ProviderHttpException((HttpStatusCode)status, null, null, "x");

        Assert.Equal(kind, FailureClassifier.Classify(error));
        Assert.Equal(transient, FailureClassifier.IsTransient(FailureClassifier.Classify(error)));
    }

    [Fact]
    public void Connection_failures_and_timeouts_are_transient_even_when_wrapped()
    {
        Assert.Equal(FailureKind.Connection, FailureClassifier.Classify(new InvalidOperationException("sdk", new HttpRequestException("refused"))));
        Assert.Equal(FailureKind.Timeout, FailureClassifier.Classify(new AttemptTimeoutException("a", TimeSpan.FromSeconds(1))));
        Assert.Equal(FailureKind.Other, FailureClassifier.Classify(new ArgumentException("bad")));
    }
}
