using System.Net;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace AspireLlm.Api.ApiKeys;

/// <summary>Limits on traffic that does not present a valid key, bound from <c>ApiKeys</c>.</summary>
public sealed class FailedAuthenticationOptions
{
    public const string SectionName = "ApiKeys";

    /// <summary>Requests without a valid key one client address may make per minute (with a burst of the same size).</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 1_000_000)]
    public int FailuresPerMinutePerAddress { get; set; } = 60;

    /// <summary>Unknown keys remembered, so that repeating one costs no database lookup; a bound on that memory.</summary>
    [System.ComponentModel.DataAnnotations.Range(100, 10_000_000)]
    public int UnknownKeysRemembered { get; set; } = 10_000;
}

/// <summary>
/// Rate limits requests that fail to authenticate, per client address (System.Threading.RateLimiting
/// token buckets, idle partitions dropped by the limiter itself). A client that guesses keys, or sends
/// none, is refused with 429 once its budget is spent, before any key lookup reaches the database.
/// Behind a proxy the address is the proxy's unless forwarded headers are enabled
/// (<c>ASPNETCORE_FORWARDEDHEADERS_ENABLED=true</c>).
/// </summary>
public sealed class FailedAuthentication(IOptions<FailedAuthenticationOptions> options) : IDisposable
{
    private readonly PartitionedRateLimiter<IPAddress> _limiter = PartitionedRateLimiter.Create<IPAddress, IPAddress>(address =>
        RateLimitPartition.GetTokenBucketLimiter(address, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = options.Value.FailuresPerMinutePerAddress,
            TokensPerPeriod = options.Value.FailuresPerMinutePerAddress,
            ReplenishmentPeriod = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    /// <summary>Wait this long before the next attempt is heard.</summary>
    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(60);

    /// <summary>True while <paramref name="address"/> still has failures to spend (it spends none).</summary>
    public bool MayTry(IPAddress? address) =>
        _limiter.GetStatistics(address ?? IPAddress.None) is not { CurrentAvailablePermits: <= 0 };

    /// <summary>Counts one failure against <paramref name="address"/>.</summary>
    public void Record(IPAddress? address)
    {
        using var lease = _limiter.AttemptAcquire(address ?? IPAddress.None);
    }

    public void Dispose() => _limiter.Dispose();
}
