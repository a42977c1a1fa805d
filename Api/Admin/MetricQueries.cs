using AspireLlm.Orchestration.Observability;
using Npgsql;

namespace AspireLlm.Api.Admin;

/// <summary>A time window the dashboard shows: where its points come from and how wide each point is.</summary>
public sealed record MetricWindow(string Range, DateTimeOffset From, DateTimeOffset To, TimeSpan Step, bool Hourly)
{
    public static readonly IReadOnlyList<string> Ranges = ["hour", "day", "month"];

    /// <summary>
    /// Last hour per minute (from the minute rollup); last day per hour and last 30 days per day (from the
    /// hour rollup). The day once came from the minute rollup in 30-minute points: summing 1 440 minutes of
    /// every series' latency histogram took 520-590 ms at p50 (bench/run-dashboard-bench.sh at full size),
    /// against 24 hour rows per series now.
    /// </summary>
    public static MetricWindow? Of(string? range, DateTimeOffset now) => (range ?? "hour") switch
    {
        "hour" => new("hour", Floor(now, TimeSpan.FromMinutes(1)).AddMinutes(-59), now, TimeSpan.FromMinutes(1), false),
        "day" => new("day", Floor(now, TimeSpan.FromHours(1)).AddHours(-23), now, TimeSpan.FromHours(1), true),
        "month" => new("month", Floor(now, TimeSpan.FromDays(1)).AddDays(-29), now, TimeSpan.FromDays(1), true),
        _ => null,
    };

    /// <summary>The start of every point, oldest first (points without data are shown as zero).</summary>
    public IReadOnlyList<DateTimeOffset> Points()
    {
        var points = new List<DateTimeOffset>();
        for (var t = From; t <= To; t += Step)
        {
            points.Add(t);
        }

        return points;
    }

    /// <summary>Seconds covered so far: the last point is still filling.</summary>
    public double Seconds => Math.Max(1, (To - From).TotalSeconds);

    private static DateTimeOffset Floor(DateTimeOffset time, TimeSpan step) => new(time.UtcTicks - time.UtcTicks % step.Ticks, TimeSpan.Zero);
}

/// <summary>One rolled-up series over one point of a window.</summary>
public sealed record MetricPoint(DateTimeOffset Time, string Name, string Dim1, string Dim2, string Dim3, long Count, double Sum, long[]? Buckets);

/// <summary>Reads <c>metric_minutes</c>/<c>metric_hours</c>, the sums every Api and Worker process adds its metrics to.</summary>
public sealed class MetricQueries(NpgsqlDataSource dataSource)
{
    public async Task<IReadOnlyList<MetricPoint>> ReadAsync(MetricWindow window, IReadOnlyList<string> names, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            SELECT date_bin($1, bucket, $2) AS point, name, dim1, dim2, dim3, sum(count)::bigint, sum(sum), histogram_sum(buckets)
            FROM {(window.Hourly ? "metric_hours" : "metric_minutes")}
            WHERE name = ANY($3) AND bucket >= $2 AND bucket <= $4
            GROUP BY 1, 2, 3, 4, 5
            ORDER BY 1
            """);
        command.Parameters.AddWithValue(window.Step);
        command.Parameters.AddWithValue(window.From);
        command.Parameters.AddWithValue(names.ToArray());
        command.Parameters.AddWithValue(window.To);
        var points = new List<MetricPoint>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            points.Add(new MetricPoint(
                reader.GetFieldValue<DateTimeOffset>(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                reader.GetInt64(5), reader.GetDouble(6), reader.IsDBNull(7) ? null : reader.GetFieldValue<long[]>(7)));
        }

        return points;
    }

    public static double? Percentile(IEnumerable<MetricPoint> points, double quantile)
    {
        long[]? sum = null;
        foreach (var point in points)
        {
            sum = LatencyHistogram.Add(sum, point.Buckets);
        }

        return LatencyHistogram.Percentile(sum, quantile) is { } value ? Math.Round(value, 1) : null;
    }
}
