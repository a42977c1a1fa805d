using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;

namespace AspireLlm.Orchestration.Observability;

/// <summary>
/// Feeds <see cref="MetricRollup"/> from the very instruments the services export over OTLP, so the
/// dashboard charts what a Prometheus or Grafana setup would chart from the same process. Only this
/// host's meters are read (a test process may host several): those created by its
/// <see cref="IMeterFactory"/>.
/// </summary>
public sealed class MetricRollupListener(MetricRollup rollup, IMeterFactory meterFactory) : IHostedService, IDisposable
{
    private MeterListener? _listener;

    private static readonly HashSet<string> Instruments =
    [
        "http.server.request.duration", "aspirellm.llm.attempts", "gen_ai.client.operation.time_to_first_chunk", "aspirellm.llm.tokens",
        "aspirellm.llm.cost", "aspirellm.llm.retries", "aspirellm.llm.fallbacks", "aspirellm.llm.breaker.transitions",
        "aspirellm.llm.cache.requests", "aspirellm.worker.job.duration", "aspirellm.worker.job.pickup_latency", "aspirellm.api.jobs.accepted",
    ];

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter.Scope, meterFactory) && Instruments.Contains(instrument.Name))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument.Name, value, tags));
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument.Name, value, tags));
        _listener.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _listener?.Dispose();
        _listener = null;
        return Task.CompletedTask;
    }

    public void Dispose() => _listener?.Dispose();

    private void Record(string instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        switch (instrument)
        {
            case "http.server.request.duration":
                var route = Tag(tags, "http.route");
                var status = Tag(tags, "http.response.status_code");
                rollup.Observe(MetricNames.HttpRequests, value * 1000, RouteGroup(route), status.Length > 0 ? status[0] + "xx" : "", status);
                break;
            case "aspirellm.llm.attempts":
                rollup.Observe(MetricNames.ModelAttempts, value * 1000, Tag(tags, "aspirellm.deployment"), Tag(tags, "aspirellm.outcome"), Tag(tags, "gen_ai.request.model"));
                break;
            case "gen_ai.client.operation.time_to_first_chunk":
                rollup.Observe(MetricNames.TimeToFirstChunk, value * 1000, Tag(tags, "aspirellm.deployment"), "", Tag(tags, "gen_ai.request.model"));
                break;
            case "aspirellm.llm.tokens":
                rollup.Add(MetricNames.Tokens, value, Tag(tags, "aspirellm.deployment"), Tag(tags, "gen_ai.token.type"), Tag(tags, "gen_ai.request.model"));
                break;
            case "aspirellm.llm.cost":
                rollup.Add(MetricNames.Cost, value, Tag(tags, "aspirellm.deployment"), "", Tag(tags, "gen_ai.request.model"));
                break;
            case "aspirellm.llm.retries":
                rollup.Add(MetricNames.Retries, value, Tag(tags, "aspirellm.deployment"), Tag(tags, "error.type"));
                break;
            case "aspirellm.llm.fallbacks":
                rollup.Add(MetricNames.Fallbacks, value, Tag(tags, "aspirellm.deployment"), Tag(tags, "aspirellm.fallback.reason"), Tag(tags, "gen_ai.request.model"));
                break;
            case "aspirellm.llm.breaker.transitions" when Tag(tags, "aspirellm.breaker.remote") != "True":
                rollup.Add(MetricNames.BreakerTransitions, value, Tag(tags, "aspirellm.deployment"), Tag(tags, "aspirellm.breaker.state"));
                break;
            case "aspirellm.llm.cache.requests":
                var kind = Tag(tags, "aspirellm.cache.kind");
                rollup.Add(MetricNames.Cache, value, kind.Length > 0 ? kind : "exact", Tag(tags, "aspirellm.cache.outcome"), Tag(tags, "gen_ai.request.model"));
                break;
            case "aspirellm.worker.job.duration":
                rollup.Observe(MetricNames.JobRuns, value * 1000, Tag(tags, "aspirellm.job.kind"), Tag(tags, "aspirellm.job.outcome"));
                break;
            case "aspirellm.worker.job.pickup_latency":
                rollup.Observe(MetricNames.JobPickup, value * 1000, Tag(tags, "aspirellm.job.kind"));
                break;
            case "aspirellm.api.jobs.accepted":
                rollup.Add(MetricNames.JobsAccepted, value, Tag(tags, "aspirellm.job.kind"));
                break;
        }
    }

    /// <summary>The part of the Api a route belongs to; the overview charts these.</summary>
    public static string RouteGroup(string route) => route switch
    {
        "" => "unmatched",
        _ when route.StartsWith("/v1/chat", StringComparison.Ordinal) => "chat",
        _ when route.StartsWith("/v1/embeddings", StringComparison.Ordinal) => "embeddings",
        _ when route.StartsWith("/v1/conversations", StringComparison.Ordinal) => "conversations",
        _ when route.StartsWith("/v1/jobs", StringComparison.Ordinal) => "jobs",
        _ when route.StartsWith("/v1/models", StringComparison.Ordinal) => "models",
        _ when route.StartsWith("/v1/admin", StringComparison.Ordinal) => "admin",
        _ => "other",
    };

    private static string Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string name)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == name)
            {
                return tag.Value?.ToString() ?? "";
            }
        }

        return "";
    }
}
