using System.Diagnostics;
using System.Diagnostics.Metrics;
using AspireLlm.Orchestration.Pipeline;
using AspireLlm.Orchestration.Resilience;

namespace AspireLlm.Orchestration.Telemetry;

/// <summary>
/// Our counters beside the GenAI semantic-convention spans and metrics that
/// Microsoft.Extensions.AI's OpenTelemetry client emits for each provider call: cache outcomes,
/// retries, breaker transitions, fallbacks, cost, and time to first token.
/// </summary>
public sealed class OrchestrationTelemetry : IDisposable
{
    /// <summary>The activity source and meter name; ServiceDefaults subscribes to <c>AspireLlm.*</c>.</summary>
    public const string SourceName = "AspireLlm.Orchestration";

    /// <summary>
    /// Spans for the Redis calls on a model call's path (admission, the answer cache), which the Redis
    /// client's own tracing is turned off for (see the services' appsettings.json).
    /// </summary>
    internal static readonly ActivitySource Source = new(SourceName);

    private readonly Meter _meter;
    private readonly Counter<long> _cache;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _breakerTransitions;
    private readonly Counter<long> _fallbacks;
    private readonly Counter<double> _cost;
    private readonly Histogram<double> _timeToFirstChunk;
    private readonly Histogram<double> _attempts;
    private readonly Counter<long> _tokens;

    public OrchestrationTelemetry(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(SourceName) ?? new Meter(SourceName);
        _cache = _meter.CreateCounter<long>("aspirellm.llm.cache.requests", "{request}", "Model calls by exact-cache outcome.");
        _retries = _meter.CreateCounter<long>("aspirellm.llm.retries", "{retry}", "Retried provider attempts, by deployment and failure.");
        _breakerTransitions = _meter.CreateCounter<long>("aspirellm.llm.breaker.transitions", "{transition}", "Circuit state changes, by deployment and new state.");
        _fallbacks = _meter.CreateCounter<long>("aspirellm.llm.fallbacks", "{fallback}", "Deployments skipped or failed over, by reason.");
        _cost = _meter.CreateCounter<double>("aspirellm.llm.cost", "USD", "Provider cost of model calls.");
        _timeToFirstChunk = _meter.CreateHistogram<double>(
            "gen_ai.client.operation.time_to_first_chunk", "s", "Time from the request to the first streamed chunk.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30] });
        _attempts = _meter.CreateHistogram<double>(
            "aspirellm.llm.attempts", "s", "Provider attempts (each retry is one), by deployment and outcome: ok, or the failure kind.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60] });
        _tokens = _meter.CreateCounter<long>("aspirellm.llm.tokens", "{token}", "Tokens charged for model calls, by alias, deployment and type (input, output).");
    }

    /// <summary>One provider attempt's outcome (<c>ok</c>, <c>cancelled</c> or a failure kind) and duration.</summary>
    public void Attempt(string deployment, string outcome, TimeSpan elapsed) =>
        _attempts.Record(elapsed.TotalSeconds, new("aspirellm.deployment", deployment), new("aspirellm.outcome", outcome));

    public void Tokens(string alias, string deployment, long input, long output)
    {
        if (input > 0)
        {
            _tokens.Add(input, new("gen_ai.request.model", alias), new("aspirellm.deployment", deployment), new("gen_ai.token.type", "input"));
        }

        if (output > 0)
        {
            _tokens.Add(output, new("gen_ai.request.model", alias), new("aspirellm.deployment", deployment), new("gen_ai.token.type", "output"));
        }
    }

    public void CacheOutcome(string alias, CacheOutcome outcome) =>
        _cache.Add(1, new("gen_ai.request.model", alias), new("aspirellm.cache.outcome", OutcomeName(outcome)));

    public void Retry(string deployment, FailureKind failure) =>
        _retries.Add(1, new("aspirellm.deployment", deployment), new("error.type", failure.ToString()));

    public void BreakerTransition(BreakerTransition transition) =>
        _breakerTransitions.Add(1, new("aspirellm.deployment", transition.Deployment), new("aspirellm.breaker.state", transition.To.ToString()),
            new("aspirellm.breaker.remote", transition.Remote));

    public void Fallback(string alias, string deployment, string reason) =>
        _fallbacks.Add(1, new("gen_ai.request.model", alias), new("aspirellm.deployment", deployment), new("aspirellm.fallback.reason", reason));

    public void Cost(string alias, string deployment, decimal cost)
    {
        if (cost > 0)
        {
            _cost.Add((double)cost, new("gen_ai.request.model", alias), new("aspirellm.deployment", deployment));
        }
    }

    public void TimeToFirstChunk(string alias, string deployment, TimeSpan elapsed) =>
        _timeToFirstChunk.Record(elapsed.TotalSeconds, new("gen_ai.request.model", alias), new("aspirellm.deployment", deployment));

    /// <summary>Tags the current span (the caller's request span) with what the pipeline decided.</summary>
    public static void Annotate(ModelCallContext context)
    {
        if (Activity.Current is { IsAllDataRequested: true } activity)
        {
            activity.SetTag("aspirellm.deployment", context.Deployment);
            activity.SetTag("aspirellm.cache.outcome", OutcomeName(context.Cache));
            activity.SetTag("aspirellm.cost", (double)context.Cost);
        }
    }

    private static string OutcomeName(CacheOutcome outcome) => outcome switch
    {
        Pipeline.CacheOutcome.Hit => "hit",
        Pipeline.CacheOutcome.Miss => "miss",
        Pipeline.CacheOutcome.Stale => "stale",
        Pipeline.CacheOutcome.SemanticHit => "semantic_hit",
        _ => "bypass",
    };

    public void Dispose() => _meter.Dispose();
}
