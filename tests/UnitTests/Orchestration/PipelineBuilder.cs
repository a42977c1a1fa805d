using AspireLlm.Orchestration;
using AspireLlm.Orchestration.Resilience;
using AspireLlm.Orchestration.Routing;
using AspireLlm.Orchestration.Telemetry;
using AspireLlm.Orchestration.Tokens;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace AspireLlm.UnitTests.Orchestration;

/// <summary>
/// Puts deployments over scripted providers into a fallback chain, with a fake clock, so that
/// backoff, breaker windows and deadlines can be tested step by step.
/// </summary>
internal sealed class PipelineBuilder
{
    private readonly List<List<ModelDeployment>> _groups = [[]];

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero));

    public ResilienceOptions Resilience { get; } = new()
    {
        MaxRetries = 2,
        BaseDelay = TimeSpan.FromSeconds(1),
        MaxDelay = TimeSpan.FromSeconds(8),
        DefaultDeadline = TimeSpan.FromSeconds(60),
        Breaker = new BreakerOptions { ConsecutiveFailures = 100, MinimumThroughput = 100, BreakDuration = TimeSpan.FromSeconds(30) },
    };

    public OrchestrationTelemetry Telemetry { get; } = new();

    public RoutingStrategy Strategy { get; set; } = RoutingStrategy.Priority;

    public ModelDeployment Add(string name, IChatClient provider, Action<DeploymentOptions>? configure = null)
    {
        var options = new DeploymentOptions
        {
            Provider = ProviderNames.OpenAI, Model = name, InputPricePerMillion = 1m, OutputPricePerMillion = 2m,
            AttemptTimeout = TimeSpan.FromSeconds(10),
        };
        configure?.Invoke(options);
        var deployment = new ModelDeployment(
            name, options, provider, DeploymentRetry.Build(name, Resilience, Time, Telemetry, NullLogger.Instance),
            new CircuitBreaker(name, Resilience.Breaker, Time), TokenEncoding.O200k, Time);
        _groups[^1].Add(deployment);
        return deployment;
    }

    /// <summary>Deployments added after this go into the next fallback group.</summary>
    public PipelineBuilder NextGroup()
    {
        _groups.Add([]);
        return this;
    }

    public FallbackChatClient Build(string alias = "test-model") =>
        new(Route(alias), TokenCounter.Shared, Resilience, Telemetry, NullLogger.Instance, Time);

    public AliasRoute Route(string alias = "test-model") =>
        new(alias, new ModelAliasOptions(), [.. _groups.Select(group => new DeploymentGroup(Strategy, [.. group]))]);

    /// <summary>Advances the fake clock in small steps until <paramref name="task"/> ends (or the limit passes).</summary>
    public async Task<T> DriveAsync<T>(Task<T> task, TimeSpan? limit = null, TimeSpan? step = null)
    {
        var end = Time.GetUtcNow() + (limit ?? TimeSpan.FromMinutes(5));
        while (!task.IsCompleted && Time.GetUtcNow() < end)
        {
            await Task.Delay(1);
            Time.Advance(step ?? TimeSpan.FromMilliseconds(100));
        }

        return await task;
    }
}
