using System.Collections.Concurrent;
using System.Diagnostics;
using AspireLlm.Api.ApiKeys;
using AspireLlm.Orchestration.Admission;
using AspireLlm.Orchestration.Telemetry;
using AspireLlm.Tests.Shared;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace AspireLlm.ServiceTests.Gateway;

/// <summary>
/// The Redis client's own tracing is off (it held every command and its request's span for 10 s), so
/// admission's round trip to Redis is traced by admission itself: one span per model call, with its outcome.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class AdmissionSpanTests(LocalInfrastructure infrastructure) : IAsyncLifetime
{
    private readonly ConcurrentBag<Activity> _spans = [];
    private readonly string _traceRoot = "admission-span-test-" + Guid.NewGuid().ToString("N");
    private ConnectionMultiplexer _redis = null!;
    private ActivityListener _listener = null!;

    public async Task InitializeAsync()
    {
        _redis = await ConnectionMultiplexer.ConnectAsync(infrastructure.RedisConnectionString);
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == OrchestrationTelemetry.SourceName || source.Name == _traceRoot,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _spans.Add,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public async Task DisposeAsync()
    {
        _listener.Dispose();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task Each_admission_is_one_span_under_the_call_with_its_outcome()
    {
        // Mid-minute, so that both calls count in the same per-minute window.
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 10, 30, 30, TimeSpan.Zero));
        var admission = new RedisModelAdmission(
            _redis, Options.Create(new AdmissionOptions()), clock, NullLogger<RedisModelAdmission>.Instance, new TestMeterFactory());
        var request = new AdmissionRequest("t", "gpt-4o-mini", 10, 10, 0.0001m,
            new AdmissionSubject(Guid.NewGuid(), "t", new KeyLimits(RequestsPerMinute: 1), TenantLimits.None));
        using var source = new ActivitySource(_traceRoot);
        using var call = source.StartActivity("model call")!;

        await using (await admission.AdmitAsync(request, CancellationToken.None))
        {
        }

        await Assert.ThrowsAsync<ModelAdmissionException>(async () => await admission.AdmitAsync(request, CancellationToken.None));

        var admissions = _spans.Where(span => span.OperationName == "admission.admit" && span.ParentSpanId == call.SpanId)
            .OrderBy(span => span.StartTimeUtc).ToList();
        Assert.Equal(["admitted", "refused"], admissions.Select(span => span.GetTagItem("aspirellm.admission.outcome") as string));
        Assert.All(admissions, span => Assert.Equal("redis", span.GetTagItem("db.system.name")));
    }
}
