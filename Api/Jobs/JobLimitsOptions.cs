using System.ComponentModel.DataAnnotations;

namespace AspireLlm.Api.Jobs;

/// <summary>What one API key may hold open at once, bound from <c>Jobs</c>; beyond either, 429 with Retry-After.</summary>
public sealed class JobLimitsOptions
{
    public const string SectionName = "Jobs";

    /// <summary>Jobs a key may have waiting to start.</summary>
    [Range(1, 1_000_000)]
    public int MaxPendingPerKey { get; set; } = 1000;

    /// <summary>Event streams (<c>GET /v1/jobs/{id}/events</c>) a key may have open at once, across all Api replicas.</summary>
    [Range(1, 100_000)]
    public int MaxEventStreamsPerKey { get; set; } = 50;
}
