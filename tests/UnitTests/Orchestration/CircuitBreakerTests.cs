using AspireLlm.Orchestration;
using AspireLlm.Orchestration.Pipeline;
using AspireLlm.Orchestration.Resilience;
using AspireLlm.Orchestration.Routing;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Time.Testing;
using static AspireLlm.UnitTests.Orchestration.ScriptedChatClient;

namespace AspireLlm.UnitTests.Orchestration;

public sealed class CircuitBreakerTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero));

    private CircuitBreaker Breaker(int consecutive = 100, int minimum = 10, double ratio = 0.5) => new("dep", new BreakerOptions
    {
        ConsecutiveFailures = consecutive,
        MinimumThroughput = minimum,
        FailureRatio = ratio,
        SamplingDuration = TimeSpan.FromSeconds(30),
        BreakDuration = TimeSpan.FromSeconds(15),
    }, _time);

    private static void Call(CircuitBreaker breaker, bool fails)
    {
        Assert.True(breaker.TryAcquire(out var probe));
        if (fails)
        {
            breaker.OnFailure(probe);
        }
        else
        {
            breaker.OnSuccess(probe);
        }
    }

    [Fact]
    public void Opens_after_consecutive_failures_and_fails_fast_for_the_break()
    {
        var breaker = Breaker(consecutive: 3);
        var transitions = new List<BreakerTransition>();
        breaker.Transitioned += transitions.Add;

        Call(breaker, fails: true);
        Call(breaker, fails: true);
        Assert.Equal(BreakerState.Closed, breaker.State);
        Call(breaker, fails: true);

        Assert.True(breaker.IsOpen(out var retryAfter));
        Assert.Equal(TimeSpan.FromSeconds(15), retryAfter);
        Assert.False(breaker.TryAcquire(out _));
        Assert.Equal(BreakerState.Open, Assert.Single(transitions).To);
        Assert.False(transitions[0].Remote);
    }

    [Fact]
    public void A_success_resets_the_consecutive_count()
    {
        var breaker = Breaker(consecutive: 3);
        Call(breaker, fails: true);
        Call(breaker, fails: true);
        Call(breaker, fails: false);
        Call(breaker, fails: true);
        Call(breaker, fails: true);

        Assert.Equal(BreakerState.Closed, breaker.State);
    }

    [Fact]
    public void Ratio_opens_only_once_the_window_holds_the_minimum_number_of_calls()
    {
        var breaker = Breaker(minimum: 10, ratio: 0.5);
        for (var i = 0; i < 4; i++)
        {
            Call(breaker, fails: true);
            Call(breaker, fails: false);
        }

        Assert.Equal(BreakerState.Closed, breaker.State); // 4 of 8: too few calls to judge
        Call(breaker, fails: false);
        Call(breaker, fails: true);                      // 5 of 10 = 50 %

        Assert.Equal(BreakerState.Open, breaker.State);
    }

    [Fact]
    public void Failures_older_than_the_window_no_longer_count()
    {
        var breaker = Breaker(minimum: 4, ratio: 0.5);
        Call(breaker, fails: true);
        Call(breaker, fails: true);
        Call(breaker, fails: true);
        _time.Advance(TimeSpan.FromSeconds(31));
        Call(breaker, fails: true);
        Call(breaker, fails: false);
        Call(breaker, fails: false);
        Call(breaker, fails: false);

        Assert.Equal(BreakerState.Closed, breaker.State); // 1 of 4 inside the window
    }

    [Fact]
    public void After_the_break_exactly_one_probe_goes_through_and_its_success_closes_the_circuit()
    {
        var breaker = Breaker(consecutive: 1);
        Call(breaker, fails: true);
        _time.Advance(TimeSpan.FromSeconds(15));

        Assert.False(breaker.IsOpen(out _));
        Assert.True(breaker.TryAcquire(out var probe));
        Assert.True(probe);
        Assert.Equal(BreakerState.HalfOpen, breaker.State);
        Assert.False(breaker.TryAcquire(out _));
        Assert.True(breaker.IsOpen(out _));

        breaker.OnSuccess(probe);
        Assert.Equal(BreakerState.Closed, breaker.State);
        Assert.True(breaker.TryAcquire(out var next));
        Assert.False(next);
    }

    [Fact]
    public void A_failed_probe_opens_the_circuit_for_another_break()
    {
        var breaker = Breaker(consecutive: 1);
        Call(breaker, fails: true);
        _time.Advance(TimeSpan.FromSeconds(15));
        Assert.True(breaker.TryAcquire(out var probe));

        breaker.OnFailure(probe);

        Assert.True(breaker.IsOpen(out var retryAfter));
        Assert.Equal(TimeSpan.FromSeconds(15), retryAfter);
    }

    [Fact]
    public void State_from_another_replica_opens_and_closes_without_being_sent_back()
    {
        var breaker = Breaker();
        var transitions = new List<BreakerTransition>();
        breaker.Transitioned += transitions.Add;

        breaker.ApplyRemoteOpen(TimeSpan.FromSeconds(4));
        Assert.True(breaker.IsOpen(out var retryAfter));
        Assert.Equal(TimeSpan.FromSeconds(4), retryAfter);
        breaker.ApplyRemoteClose();

        Assert.Equal(BreakerState.Closed, breaker.State);
        Assert.All(transitions, transition => Assert.True(transition.Remote));
        Assert.Equal(2, transitions.Count);
    }

    [Fact]
    public async Task An_open_circuit_is_skipped_without_calling_the_provider()
    {
        var pipeline = new PipelineBuilder();
        var dead = new ScriptedChatClient(Answer("dead"));
        var alive = new ScriptedChatClient(Answer("alive"));
        pipeline.Add("dead", dead).Breaker.ApplyRemoteOpen(TimeSpan.FromSeconds(10));
        pipeline.Add("alive", alive);
        var context = new ModelCallContext("t");

        var response = await pipeline.Build().GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], new ChatOptions().WithCallContext(context));

        Assert.Equal("alive", response.Text);
        Assert.Equal(0, dead.Calls);
        Assert.Equal(["dead: breaker_open"], context.Fallbacks);
    }

    [Fact]
    public async Task With_every_circuit_open_the_call_fails_at_once_with_the_earliest_reopening_as_hint()
    {
        var pipeline = new PipelineBuilder();
        pipeline.Add("a", new ScriptedChatClient(Answer())).Breaker.ApplyRemoteOpen(TimeSpan.FromSeconds(10));
        pipeline.Add("b", new ScriptedChatClient(Answer())).Breaker.ApplyRemoteOpen(TimeSpan.FromSeconds(3));

        var call = pipeline.Build().GetResponseAsync([new ChatMessage(ChatRole.User, "hi")]);

        Assert.True(call.IsCompleted);
        var error = await Assert.ThrowsAsync<ModelUnavailableException>(() => call);
        Assert.Equal(TimeSpan.FromSeconds(3), error.RetryAfter);
    }

    [Fact]
    public async Task Repeated_transient_failures_through_the_pipeline_open_the_circuit()
    {
        var pipeline = new PipelineBuilder();
        pipeline.Resilience.MaxRetries = 0;
        pipeline.Resilience.Breaker.ConsecutiveFailures = 2;
        var provider = new ScriptedChatClient(Fail(500));
        var deployment = pipeline.Add("a", provider);
        var client = pipeline.Build();

        for (var i = 0; i < 3; i++)
        {
            await Assert.ThrowsAsync<ModelUnavailableException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")]));
        }

        Assert.Equal(2, provider.Calls);
        Assert.Equal(BreakerState.Open, deployment.Breaker.State);
    }
}
