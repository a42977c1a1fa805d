using System.ComponentModel.DataAnnotations;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace AspireLlm.Api.Admin;

/// <summary>How many admin logins (<c>POST /v1/admin/login</c>) this replica takes per window, per address and in all.</summary>
public sealed class LoginThrottleOptions
{
    public const string SectionName = "Admin:Login";

    [Range(1, 10_000)]
    public int AttemptsPerAddress { get; set; } = 10;

    [Range(1, 100_000)]
    public int AttemptsOverall { get; set; } = 100;

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>
/// Bounds guessing at admin keys: a fixed window per client address, then one for all addresses
/// (asked second, so one noisy address spends only its own attempts, not everyone's). Every attempt
/// counts, failed or not. In-process, so each replica allows this much on its own.
/// </summary>
internal sealed class LoginThrottle(IOptions<LoginThrottleOptions> options) : IDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter = PartitionedRateLimiter.CreateChained(
        PartitionedRateLimiter.Create<string, string>(address => RateLimitPartition.GetFixedWindowLimiter(address, _ => Window(options.Value.AttemptsPerAddress, options.Value.Window))),
        PartitionedRateLimiter.Create<string, string>(_ => RateLimitPartition.GetFixedWindowLimiter("all", _ => Window(options.Value.AttemptsOverall, options.Value.Window))));

    /// <summary>Takes one attempt for <paramref name="address"/>; null when it may go ahead, otherwise how long to wait.</summary>
    public TimeSpan? TryAttempt(string address)
    {
        using var lease = _limiter.AttemptAcquire(address);
        return lease.IsAcquired ? null
            : lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter
            : options.Value.Window;
    }

    public void Dispose() => _limiter.Dispose();

    private static FixedWindowRateLimiterOptions Window(int permits, TimeSpan window) => new()
    {
        PermitLimit = permits,
        Window = window,
        QueueLimit = 0,
        AutoReplenishment = true,
    };
}
