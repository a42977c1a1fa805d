using System.ComponentModel.DataAnnotations;

namespace AspireLlm.Orchestration;

/// <summary>Retry and circuit-breaker settings, the same for every deployment.</summary>
public sealed class ResilienceOptions
{
    /// <summary>Total time a call may take, retries and fallbacks included, when the caller sets none.</summary>
    public TimeSpan DefaultDeadline { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>Retries per deployment after the first attempt.</summary>
    [Range(0, 10)]
    public int MaxRetries { get; set; } = 2;

    /// <summary>First backoff delay; it doubles each retry, with jitter.</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(10);

    [Required]
    public BreakerOptions Breaker { get; set; } = new();
}

/// <summary>When a deployment is taken out of rotation and how it is let back in.</summary>
public sealed class BreakerOptions
{
    /// <summary>Opens when at least this share of the calls in the window failed...</summary>
    [Range(0.01, 1.0)]
    public double FailureRatio { get; set; } = 0.5;

    /// <summary>...and the window holds at least this many calls.</summary>
    [Range(1, 100_000)]
    public int MinimumThroughput { get; set; } = 10;

    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Also opens after this many failures in a row, whatever the window says.</summary>
    [Range(1, 100_000)]
    public int ConsecutiveFailures { get; set; } = 5;

    /// <summary>How long it stays open before one probe call is let through.</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(15);
}
