using System.ComponentModel.DataAnnotations;

namespace AspireLlm.Orchestration.Simulator;

/// <summary>Behaviour of the built-in simulator provider, bound from <c>Orchestration:Simulator</c>.</summary>
public sealed class SimulatorOptions
{
    /// <summary>Delay before the first token, in milliseconds.</summary>
    [Range(0, 600_000)]
    public int LatencyMs { get; set; }

    /// <summary>Generation speed after the first token; 0 means all tokens at once.</summary>
    [Range(0, 1_000_000)]
    public int TokensPerSecond { get; set; }

    /// <summary>Upper bound of generated tokens when the request sets none.</summary>
    [Range(1, 4096)]
    public int DefaultMaxOutputTokens { get; set; } = 24;

    /// <summary>Faults for every simulated deployment that sets none of its own.</summary>
    public SimulatorFaults? Faults { get; set; }
}

/// <summary>
/// Shares of calls (0 to 1) that fail the way real providers fail, so that retries, breakers and
/// fallbacks can be exercised offline. Each call draws once; the shares are checked in order.
/// </summary>
public sealed class SimulatorFaults
{
    /// <summary>429 with a Retry-After of <see cref="RetryAfterSeconds"/>.</summary>
    [Range(0.0, 1.0)]
    public double RateLimitShare { get; set; }

    [Range(0, 3600)]
    public int RetryAfterSeconds { get; set; } = 1;

    /// <summary>500.</summary>
    [Range(0.0, 1.0)]
    public double ServerErrorShare { get; set; }

    /// <summary>Never answers; the attempt timeout or the caller ends it.</summary>
    [Range(0.0, 1.0)]
    public double TimeoutShare { get; set; }

    /// <summary>The stream breaks after <see cref="BrokenStreamAfterChunks"/> chunks.</summary>
    [Range(0.0, 1.0)]
    public double BrokenStreamShare { get; set; }

    [Range(0, 10_000)]
    public int BrokenStreamAfterChunks { get; set; } = 2;

    /// <summary>When JSON output was asked for, answers something that is not JSON.</summary>
    [Range(0.0, 1.0)]
    public double InvalidJsonShare { get; set; }

    /// <summary>Seed for the draws, so a test can replay the same faults; none means random.</summary>
    public int? Seed { get; set; }
}
