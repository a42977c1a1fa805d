using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Threading.RateLimiting;
using AspireLlm.Orchestration.Storage;
using AspireLlm.Orchestration.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace AspireLlm.Orchestration.Admission;

/// <summary>
/// Rate limits and budgets for model calls, enforced in Redis by one atomic script per call (see
/// <see cref="AdmissionScripts"/>), so that however many Api replicas run, together they admit no
/// more than a limit: tokens are charged at the estimate (prompt plus maximum output) and corrected
/// with the real usage afterwards; budgets reserve the worst-case cost and settle the real cost.
/// When Redis is down, each kind of limit does what <see cref="AdmissionOptions"/> says: refuse, or
/// fall back to this replica's own limiter (System.Threading.RateLimiting), logged and counted.
/// </summary>
public sealed partial class RedisModelAdmission(
    IConnectionMultiplexer redis, IOptions<AdmissionOptions> options, TimeProvider timeProvider, ILogger<RedisModelAdmission> logger,
    IMeterFactory meterFactory) : IModelAdmission
{
    private readonly ConcurrentDictionary<string, FixedWindowRateLimiter> _localLimiters = new(StringComparer.Ordinal);
    private readonly Counter<long> _degraded = meterFactory.Create(OrchestrationTelemetry.SourceName).CreateCounter<long>(
        "aspirellm.admission.redis_unavailable", "{call}", "Calls admitted or refused without Redis, by the configured choice.");

    private const string OutcomeTag = "aspirellm.admission.outcome";

    public async ValueTask<IAdmissionLease> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken)
    {
        if (request.Principal is not AdmissionSubject caller)
        {
            return NoModelAdmission.Instance;
        }

        var now = timeProvider.GetUtcNow();
        var plan = AdmissionPlan.For(caller, request, now);
        if (plan.IsEmpty)
        {
            return NoModelAdmission.Instance;
        }

        using var activity = OrchestrationTelemetry.Source.StartActivity("admission.admit", ActivityKind.Client);
        activity?.SetTag("db.system.name", "redis");
        RedisResult[] result;
        try
        {
            result = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(AdmissionScripts.Admit, Keys(plan), AdmitArguments(plan)))!;
        }
        catch (Exception exception) when (exception is RedisException or RedisTimeoutException)
        {
            activity?.SetTag(OutcomeTag, "redis_unavailable");
            return AdmitLocally(plan, exception);
        }

        if ((long)result[0] == 0)
        {
            activity?.SetTag(OutcomeTag, "refused");
            throw Refused(plan, (int)(long)result[1] - 1, now);
        }

        activity?.SetTag(OutcomeTag, "admitted");

        Snapshot(caller, plan, [.. result.Skip(1).Select(value => (long)value)], now);
        return new Lease(this, plan);
    }

    // The script's keys and arguments are built straight into arrays of their final size: they are made
    // on every model call, and growing lists for them was a tenth of the gateway's allocations.
    private static RedisKey[] Keys(AdmissionPlan plan)
    {
        var keys = new RedisKey[plan.Counters.Count + plan.Budgets.Count];
        var next = 0;
        foreach (var counter in plan.Counters)
        {
            keys[next++] = counter.Key;
        }

        foreach (var budget in plan.Budgets)
        {
            keys[next++] = budget.Key;
        }

        return keys;
    }

    private static RedisValue[] AdmitArguments(AdmissionPlan plan)
    {
        var values = new RedisValue[2 + 3 * (plan.Counters.Count + plan.Budgets.Count)];
        var next = 0;
        values[next++] = plan.Counters.Count;
        foreach (var counter in plan.Counters)
        {
            values[next++] = counter.Limit;
            values[next++] = counter.Amount;
            values[next++] = (long)counter.TimeToLive.TotalMilliseconds;
        }

        values[next++] = plan.Budgets.Count;
        foreach (var budget in plan.Budgets)
        {
            values[next++] = budget.Limit;
            values[next++] = budget.Amount;
            values[next++] = (long)budget.TimeToLive.TotalMilliseconds;
        }

        return values;
    }

    private static ModelAdmissionException Refused(AdmissionPlan plan, int index, DateTimeOffset now)
    {
        if (index < plan.Counters.Count)
        {
            var resetsIn = plan.WindowEnds - now;
            var counter = plan.Counters[index];
            return counter.Amount > counter.Limit
                ? TooLarge(counter)
                : new ModelAdmissionException(
                    $"Rate limit reached: {counter.Name} is {counter.Limit}. Try again in {Math.Ceiling(resetsIn.TotalSeconds)} s.",
                    resetsIn, AdmissionRefusal.RateLimited);
        }

        var budget = plan.Budgets[index - plan.Counters.Count];
        return new ModelAdmissionException(
            $"The {budget.Name} of this key is spent (or would be by this request's worst case); it renews in {Math.Ceiling(budget.ResetsIn.TotalHours)} h.",
            budget.ResetsIn, AdmissionRefusal.BudgetExhausted);
    }

    private static ModelAdmissionException TooLarge(AdmissionPlan.Counter counter) => new(
        $"This request alone needs {counter.Amount} tokens, more than {counter.Name} ({counter.Limit}) allows; lower max_tokens or shorten the prompt.",
        null, AdmissionRefusal.TooLarge);

    private static void Snapshot(AdmissionSubject caller, AdmissionPlan plan, long[] counts, DateTimeOffset now)
    {
        var reset = plan.WindowEnds - now;
        for (var i = 0; i < plan.Counters.Count; i++)
        {
            var counter = plan.Counters[i];
            var snapshot = new RateLimitSnapshot(counter.Limit, Math.Max(0, counter.Limit - counts[i]), reset);
            if (counter.Kind == AdmissionPlan.LimitKind.Requests)
            {
                caller.Requests ??= snapshot;
            }
            else
            {
                caller.Tokens ??= snapshot;
            }
        }
    }

    private IAdmissionLease AdmitLocally(AdmissionPlan plan, Exception exception)
    {
        var settings = options.Value;
        if ((plan.Budgets.Count > 0 && settings.Budgets == WhenRedisIsDown.FailClosed)
            || (plan.Counters.Count > 0 && settings.RateLimits == WhenRedisIsDown.FailClosed))
        {
            _degraded.Add(1, new KeyValuePair<string, object?>("aspirellm.admission.choice", "fail_closed"));
            LogRedisDown(logger, "refused (fail closed)", exception);
            throw new ModelAdmissionException("Limits cannot be checked right now; try again shortly.", TimeSpan.FromSeconds(1), AdmissionRefusal.Unavailable);
        }

        _degraded.Add(1, new KeyValuePair<string, object?>("aspirellm.admission.choice", "fail_open"));
        LogRedisDown(logger, "admitted against this replica's own limits (fail open)", exception);
        if (_localLimiters.Count > 10_000)
        {
            _localLimiters.Clear(); // keys are per minute: old ones are never used again
        }

        foreach (var counter in plan.Counters)
        {
            if (counter.Amount > counter.Limit)
            {
                throw TooLarge(counter);
            }

            // Windows are named by their minute, so a limiter per counter key is a limiter per window.
            var limiter = _localLimiters.GetOrAdd(counter.Key, _ => new FixedWindowRateLimiter(new FixedWindowRateLimiterOptions
            {
                PermitLimit = (int)Math.Min(int.MaxValue, counter.Limit), Window = TimeSpan.FromMinutes(1), QueueLimit = 0, AutoReplenishment = false,
            }));
            using var lease = limiter.AttemptAcquire((int)Math.Min(int.MaxValue, counter.Amount));
            if (!lease.IsAcquired)
            {
                throw new ModelAdmissionException($"Rate limit reached: {counter.Name} is {counter.Limit}.", TimeSpan.FromSeconds(60), AdmissionRefusal.RateLimited);
            }
        }

        return NoModelAdmission.Instance;
    }

    /// <summary>
    /// Written without waiting for Redis's reply: nothing downstream needs it, and one awaited round
    /// trip less is a measurable share of a request's cost. If Redis refuses the write, the
    /// reservation stays until its period ends, so budgets err on the side of not overspending.
    /// </summary>
    private ValueTask SettleAsync(AdmissionPlan plan, long tokens, decimal cost)
    {
        var tokenCounters = 0;
        foreach (var counter in plan.Counters)
        {
            tokenCounters += counter.Kind == AdmissionPlan.LimitKind.Tokens ? 1 : 0;
        }

        var keys = new RedisKey[tokenCounters + plan.Budgets.Count];
        var values = new RedisValue[1 + tokenCounters + 2 * plan.Budgets.Count];
        var (nextKey, nextValue) = (0, 0);
        values[nextValue++] = tokenCounters;
        foreach (var counter in plan.Counters)
        {
            if (counter.Kind == AdmissionPlan.LimitKind.Tokens)
            {
                keys[nextKey++] = counter.Key;
                values[nextValue++] = tokens - plan.EstimatedTokens;
            }
        }

        var costUnits = (long)Math.Round(cost * AdmissionPlan.CostUnitsPerDollar, MidpointRounding.AwayFromZero);
        foreach (var budget in plan.Budgets)
        {
            keys[nextKey++] = budget.Key;
            values[nextValue++] = budget.Amount;
            values[nextValue++] = budget.IsCost ? costUnits : tokens;
        }

        try
        {
            RedisFireAndForget.Send(redis.GetDatabase().ScriptEvaluateAsync(AdmissionScripts.Settle, keys, values, CommandFlags.FireAndForget));
        }
        catch (Exception exception) when (exception is RedisException or RedisTimeoutException)
        {
            LogSettleFailed(logger, exception);
        }

        return ValueTask.CompletedTask;
    }

    [LoggerMessage(EventId = 1201, Level = LogLevel.Warning, Message = "Redis is unavailable for rate limits and budgets; the call was {Outcome}.")]
    private static partial void LogRedisDown(ILogger logger, string outcome, Exception exception);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Warning, Message = "Could not settle a call's usage against its limits; its reservation stays until the period ends.")]
    private static partial void LogSettleFailed(ILogger logger, Exception exception);

    /// <summary>One admitted call: settled once with its real usage, or released (usage 0) if it ends without any.</summary>
    private sealed class Lease(RedisModelAdmission owner, AdmissionPlan plan) : IAdmissionLease
    {
        private int _done;

        public ValueTask SettleAsync(long inputTokens, long outputTokens, decimal cost, CancellationToken cancellationToken) =>
            Interlocked.Exchange(ref _done, 1) == 0 ? owner.SettleAsync(plan, inputTokens + outputTokens, cost) : ValueTask.CompletedTask;

        public ValueTask DisposeAsync() =>
            Interlocked.Exchange(ref _done, 1) == 0 ? owner.SettleAsync(plan, 0, 0m) : ValueTask.CompletedTask;
    }
}
