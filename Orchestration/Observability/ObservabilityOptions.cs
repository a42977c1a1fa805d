using System.ComponentModel.DataAnnotations;

namespace AspireLlm.Orchestration.Observability;

/// <summary>How often each process adds its metrics to Postgres, and how long the rollups are kept. Bound from <c>Observability</c>.</summary>
public sealed class ObservabilityOptions
{
    public const string SectionName = "Observability";

    /// <summary>How often this process adds its in-memory sums to <c>metric_minutes</c>/<c>metric_hours</c>: how live the dashboard is.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often an Api replica writes the usage of its gateway calls to the ledger: one row per key,
    /// alias, deployment and minute of the calls. Longer means fewer rows and a later usage page.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan UsageFlushInterval { get; set; } = TimeSpan.FromMinutes(1);

    [Range(1, 365)]
    public int MinuteRetentionDays { get; set; } = 3;

    [Range(1, 3650)]
    public int HourRetentionDays { get; set; } = 400;
}
