using AspireLlm.Orchestration;
using AspireLlm.Orchestration.Pipeline;
using AspireLlm.Orchestration.Resilience;
using AspireLlm.Orchestration.Routing;
using AspireLlm.Tests.Shared;
using AspireLlm.Tests.Shared.FakeProviders;
using Microsoft.Extensions.AI;
using StackExchange.Redis;

namespace AspireLlm.ServiceTests.Pipeline;

/// <summary>
/// What the pipeline keeps in a real Redis: the exact answer cache and the circuit state that
/// replicas share.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class SharedStateTests(LocalInfrastructure infrastructure) : IAsyncLifetime
{
    private readonly ProviderFixture _providers = new();
    private ConnectionMultiplexer _redis = null!;

    public async Task InitializeAsync()
    {
        await _providers.InitializeAsync();
        _redis = await ConnectionMultiplexer.ConnectAsync(infrastructure.RedisConnectionString);
    }

    public async Task DisposeAsync()
    {
        await _redis.DisposeAsync();
        await _providers.DisposeAsync();
    }

    private static ChatMessage[] Prompt(string text) => [new(ChatRole.User, text + " " + Guid.NewGuid())];

    private static ChatOptions Deterministic(string tenant, ModelCallContext? context = null) =>
        new ChatOptions { Temperature = 0 }.WithCallContext(context ?? new ModelCallContext(tenant));

    [Fact]
    public async Task A_deterministic_request_is_answered_from_the_cache_the_second_time_sync_and_streamed()
    {
        var chat = _providers.Catalog(_providers.Options(), _redis).GetChatClient("chat");
        var prompt = Prompt("Capital of France?");
        _providers.OpenAi.Enqueue(FakeReply.Text("Paris."));

        var first = await chat.GetResponseAsync(prompt, Deterministic("t1"));
        var secondContext = new ModelCallContext("t1");
        var second = await chat.GetResponseAsync(prompt, Deterministic("t1", secondContext));
        var streamContext = new ModelCallContext("t1");
        var streamed = await StreamReading.ReadAsync(chat.GetStreamingResponseAsync(prompt, Deterministic("t1", streamContext)));

        Assert.Equal("Paris.", first.Text);
        Assert.Equal("Paris.", second.Text);
        Assert.Equal("Paris.", string.Concat(streamed.Chunks));
        Assert.Equal(1, _providers.OpenAi.RequestCount);
        Assert.Equal((CacheOutcome.Hit, 0m), (secondContext.Cache, secondContext.Cost));
        Assert.Equal(CacheOutcome.Hit, streamContext.Cache);
    }

    [Fact]
    public async Task A_streamed_answer_is_cached_and_replayed()
    {
        var chat = _providers.Catalog(_providers.Options(), _redis).GetChatClient("chat");
        var prompt = Prompt("Count to three");
        _providers.OpenAi.Enqueue(FakeReply.Text("one two three"));

        var first = await StreamReading.ReadAsync(chat.GetStreamingResponseAsync(prompt, Deterministic("t1")));
        var again = await chat.GetResponseAsync(prompt, Deterministic("t1"));

        Assert.Equal("one two three", string.Concat(first.Chunks));
        Assert.Equal("one two three", again.Text);
        Assert.Equal(1, _providers.OpenAi.RequestCount);
    }

    [Fact]
    public async Task Tenants_never_share_answers_and_non_deterministic_requests_bypass_the_cache()
    {
        var chat = _providers.Catalog(_providers.Options(), _redis).GetChatClient("chat");
        var prompt = Prompt("Secret plan?");
        _providers.OpenAi.Enqueue(FakeReply.Text("for t1"), FakeReply.Text("for t2"), FakeReply.Text("creative 1"), FakeReply.Text("creative 2"));

        Assert.Equal("for t1", (await chat.GetResponseAsync(prompt, Deterministic("t1"))).Text);
        Assert.Equal("for t2", (await chat.GetResponseAsync(prompt, Deterministic("t2"))).Text);
        var creative = new ChatOptions { Temperature = 0.9f }.WithCallContext(new ModelCallContext("t1"));
        Assert.Equal("creative 1", (await chat.GetResponseAsync(prompt, creative)).Text);
        Assert.Equal("creative 2", (await chat.GetResponseAsync(prompt, creative)).Text);
        Assert.Equal(4, _providers.OpenAi.RequestCount);
    }

    [Fact]
    public async Task Truncated_answers_and_errors_are_never_cached()
    {
        var chat = _providers.Catalog(_providers.Options(options => options.Models["chat"].Groups.RemoveAt(1)), _redis).GetChatClient("chat");
        var prompt = Prompt("Long story");
        _providers.OpenAi.Enqueue(FakeReply.Text("cut short", finishReason: "length"), FakeReply.Error(400), FakeReply.Text("whole answer"));

        await chat.GetResponseAsync(prompt, Deterministic("t1"));
        await Assert.ThrowsAnyAsync<Exception>(() => chat.GetResponseAsync(prompt, Deterministic("t1")));
        var third = await chat.GetResponseAsync(prompt, Deterministic("t1"));

        Assert.Equal("whole answer", third.Text);
        Assert.Equal(3, _providers.OpenAi.RequestCount);
    }

    [Fact]
    public async Task When_every_deployment_is_down_an_alias_may_answer_from_an_expired_entry()
    {
        var options = _providers.Options(o =>
        {
            o.Models["chat"].FallbackToCache = true;
            o.Cache.Ttl = TimeSpan.FromMilliseconds(300);
            o.Resilience.MaxRetries = 0;
        });
        var chat = _providers.Catalog(options, _redis).GetChatClient("chat");
        var prompt = Prompt("Status?");
        _providers.OpenAi.Enqueue(FakeReply.Text("All good."));

        await chat.GetResponseAsync(prompt, Deterministic("t1"));
        await Task.Delay(400);
        _providers.OpenAi.Default = FakeReply.Error(503);
        _providers.Anthropic.Default = FakeReply.Error(503);
        var context = new ModelCallContext("t1");
        var stale = await chat.GetResponseAsync(prompt, Deterministic("t1", context));

        Assert.Equal("All good.", stale.Text);
        Assert.Equal(CacheOutcome.Stale, context.Cache);
        Assert.Equal(["primary: server_error", "backup: server_error"], context.Fallbacks);
    }

    [Fact]
    public async Task Two_replicas_share_one_circuit_state_through_Redis()
    {
        var options = _providers.Options(o =>
        {
            o.Resilience.MaxRetries = 0;
            o.Resilience.Breaker.ConsecutiveFailures = 2;
            o.Resilience.Breaker.BreakDuration = TimeSpan.FromSeconds(30);
            o.Deployments["primary"].Model = "shared-" + Guid.NewGuid().ToString("N")[..8];
        });
        // Deployment names are the shared key; a unique name keeps this test's circuit its own.
        var name = "primary-" + Guid.NewGuid().ToString("N")[..8];
        options.Deployments[name] = options.Deployments["primary"];
        options.Deployments.Remove("primary");
        options.Models["chat"].Groups[0].Deployments = [name];

        using var boardA = ProviderFixture.Board(_redis);
        using var boardB = ProviderFixture.Board(_redis);
        var replicaA = _providers.Catalog(options, _redis, boardA);
        var replicaB = _providers.Catalog(options, _redis, boardB);
        await boardA.StartAsync(CancellationToken.None);
        await boardB.StartAsync(CancellationToken.None);
        await Task.Delay(200); // subscriptions in place
        _providers.OpenAi.Default = FakeReply.Error(500);

        await replicaA.GetChatClient("chat").GetResponseAsync(Prompt("a"));
        await replicaA.GetChatClient("chat").GetResponseAsync(Prompt("b"));
        Assert.Equal(BreakerState.Open, replicaA.GetRoute("chat").Groups[0].Deployments[0].Breaker.State);

        var breakerB = replicaB.GetRoute("chat").Groups[0].Deployments[0].Breaker;
        var deadline = DateTime.UtcNow.AddSeconds(1);
        while (breakerB.State != BreakerState.Open && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.Equal(BreakerState.Open, breakerB.State);
        var requestsBefore = _providers.OpenAi.RequestCount;
        var response = await replicaB.GetChatClient("chat").GetResponseAsync(Prompt("c"));
        Assert.Equal(requestsBefore, _providers.OpenAi.RequestCount); // B never called the dead deployment
        Assert.Equal(2, requestsBefore);
        Assert.NotNull(response.Text);

        await boardA.StopAsync(CancellationToken.None);
        await boardB.StopAsync(CancellationToken.None);
    }
}
