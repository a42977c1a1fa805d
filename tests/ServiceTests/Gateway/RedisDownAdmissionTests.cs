using AspireLlm.Orchestration.Admission;
using AspireLlm.Api.ApiKeys;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace AspireLlm.ServiceTests.Gateway;

/// <summary>With Redis unreachable, each kind of limit does what it is configured to: refuse, or count locally.</summary>
public sealed class RedisDownAdmissionTests : IAsyncLifetime
{
    private ConnectionMultiplexer _deadRedis = null!;

    public async Task InitializeAsync() =>
        _deadRedis = await ConnectionMultiplexer.ConnectAsync("127.0.0.1:1,abortConnect=false,connectTimeout=200,syncTimeout=300,asyncTimeout=300");

    public async Task DisposeAsync() => await _deadRedis.DisposeAsync();

    private RedisModelAdmission Admission(WhenRedisIsDown rateLimits, WhenRedisIsDown budgets, out MetricCollector<long> degraded)
    {
        var meters = new TestMeterFactory();
        var admission = new RedisModelAdmission(
            _deadRedis, Options.Create(new AdmissionOptions { RateLimits = rateLimits, Budgets = budgets }), TimeProvider.System,
            NullLogger<RedisModelAdmission>.Instance, meters);
        degraded = new MetricCollector<long>(meters, "AspireLlm.Orchestration", "aspirellm.admission.redis_unavailable");
        return admission;
    }

    private static AdmissionRequest Request(KeyLimits limits) => new(
        "t", "gpt-4o-mini", 10, 10, 0.0001m,
        new AdmissionSubject(Guid.NewGuid(), "t", limits, TenantLimits.None));

    [Fact]
    public async Task Fail_closed_refuses_with_unavailable_and_counts_it()
    {
        var admission = Admission(WhenRedisIsDown.FailClosed, WhenRedisIsDown.FailClosed, out var degraded);

        var error = await Assert.ThrowsAsync<ModelAdmissionException>(async () => await admission.AdmitAsync(Request(new KeyLimits(RequestsPerMinute: 5)), CancellationToken.None));

        Assert.Equal(AdmissionRefusal.Unavailable, error.Refusal);
        Assert.Equal("fail_closed", Assert.Single(degraded.GetMeasurementSnapshot()).Tags["aspirellm.admission.choice"]);
    }

    [Fact]
    public async Task Fail_open_enforces_the_limit_with_this_replicas_own_counter()
    {
        // Local windows are per minute too: start early in one, so the four calls share it.
        await ChatCompletionsTests.WaitForFreshMinuteAsync();
        var admission = Admission(WhenRedisIsDown.FailOpen, WhenRedisIsDown.FailOpen, out var degraded);
        var request = Request(new KeyLimits(RequestsPerMinute: 3));

        for (var i = 0; i < 3; i++)
        {
            await using var lease = await admission.AdmitAsync(request, CancellationToken.None);
        }

        var error = await Assert.ThrowsAsync<ModelAdmissionException>(async () => await admission.AdmitAsync(request, CancellationToken.None));
        Assert.Equal(AdmissionRefusal.RateLimited, error.Refusal);
        Assert.All(degraded.GetMeasurementSnapshot(), m => Assert.Equal("fail_open", m.Tags["aspirellm.admission.choice"]));
    }

    [Fact]
    public async Task Budgets_can_fail_closed_while_rate_limits_fail_open()
    {
        var admission = Admission(WhenRedisIsDown.FailOpen, WhenRedisIsDown.FailClosed, out _);

        await using (await admission.AdmitAsync(Request(new KeyLimits(RequestsPerMinute: 3)), CancellationToken.None))
        {
        }

        var error = await Assert.ThrowsAsync<ModelAdmissionException>(async () =>
            await admission.AdmitAsync(Request(new KeyLimits(DailyCostBudget: 1m)), CancellationToken.None));
        Assert.Equal(AdmissionRefusal.Unavailable, error.Refusal);
    }
}
