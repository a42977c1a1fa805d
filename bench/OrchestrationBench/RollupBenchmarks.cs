using System.Diagnostics;
using System.Diagnostics.Metrics;
using AspireLlm.Api.Observability;
using AspireLlm.Orchestration.Observability;
using AspireLlm.Orchestration.Telemetry;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AspireLlm.OrchestrationBench;

/// <summary>
/// What the dashboard's figures cost a gateway request: the measurements one chat completion makes
/// (ASP.NET Core's request duration with its tags, the provider attempt, input and output tokens, cost
/// and the cache outcome), recorded on the real instruments with no listener (the baseline: the
/// instruments alone), then with <see cref="MetricRollupListener"/> summing them per minute, and the
/// Api's per-call usage sum (<see cref="GatewayUsage"/>) on its own.
/// </summary>
[MemoryDiagnoser]
public class RollupBenchmarks
{
    private static readonly Guid Key = Guid.NewGuid();
    private ServiceProvider _quiet = null!;
    private ServiceProvider _listened = null!;
    private Measurements _withoutListener = null!;
    private Measurements _withListener = null!;
    private MetricRollupListener _listener = null!;
    private GatewayUsage _usage = null!;
    private NpgsqlDataSource _dataSource = null!;

    [GlobalSetup]
    public void Setup()
    {
        _quiet = new ServiceCollection().AddMetrics().BuildServiceProvider();
        _withoutListener = new Measurements(_quiet.GetRequiredService<IMeterFactory>());
        _listened = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = _listened.GetRequiredService<IMeterFactory>();
        _listener = new MetricRollupListener(new MetricRollup(TimeProvider.System), factory);
        _listener.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
        _withListener = new Measurements(factory);

        // Never flushed here: only Record, the part on the request's path, is measured.
        _dataSource = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1");
        _usage = new GatewayUsage(_dataSource, new ApiTelemetry(factory), Options.Create(new ObservabilityOptions()), TimeProvider.System,
            NullLogger<GatewayUsage>.Instance);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _listener.Dispose();
        _listened.Dispose();
        _quiet.Dispose();
        _dataSource.Dispose();
    }

    [Benchmark(Baseline = true, Description = "one request's measurements, no listener")]
    public void Instruments() => _withoutListener.Request(200);

    [Benchmark(Description = "a refused request's measurement, no listener")]
    public void InstrumentsRefused() => _withoutListener.Request(429);

    [Benchmark(Description = "one request's measurements, rolled up (200)")]
    public void RolledUp() => _withListener.Request(200);

    [Benchmark(Description = "one request's measurements, rolled up (429)")]
    public void RolledUpRefused() => _withListener.Request(429);

    [Benchmark(Description = "gateway usage of one call (GatewayUsage.Record)")]
    public void Usage() => _usage.Record("tenant-bench", Key, "gpt-4o-mini", "sim-gpt-4o-mini", 230, 64, 0.0000729m);

    /// <summary>The instruments a chat completion records on, as the Api creates them (ASP.NET Core's through the same meter factory).</summary>
    private sealed class Measurements(IMeterFactory factory)
    {
        private readonly Histogram<double> _requestDuration =
            factory.Create(new MeterOptions("Microsoft.AspNetCore.Hosting")).CreateHistogram<double>("http.server.request.duration", "s");

        private readonly OrchestrationTelemetry _telemetry = new(factory);

        public void Request(int status)
        {
            if (status == 200)
            {
                _telemetry.Attempt("sim-gpt-4o-mini", "ok", TimeSpan.FromMilliseconds(12));
                _telemetry.Tokens("gpt-4o-mini", "sim-gpt-4o-mini", 230, 64);
                _telemetry.Cost("gpt-4o-mini", "sim-gpt-4o-mini", 0.0000729m);
                _telemetry.CacheOutcome("gpt-4o-mini", Orchestration.Pipeline.CacheOutcome.Miss);
            }

            // ASP.NET Core's own tags on the request duration (HostingMetrics).
            var tags = new TagList
            {
                { "http.request.method", "POST" }, { "url.scheme", "http" }, { "network.protocol.version", "1.1" },
                { "http.route", "/v1/chat/completions" }, { "http.response.status_code", status },
            };
            _requestDuration.Record(0.0131, tags);
        }
    }
}
