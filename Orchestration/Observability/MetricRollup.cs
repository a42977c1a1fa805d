namespace AspireLlm.Orchestration.Observability;

/// <summary>One metric series for one minute: its dimensions, how many measurements, their sum and (for latencies) their histogram.</summary>
public sealed record MetricSample(string Name, DateTimeOffset Minute, string Dim1, string Dim2, string Dim3, long Count, double Sum, long[]? Buckets);

/// <summary>
/// This process's share of the services' metrics, per minute, until <see cref="MetricFlusher"/> adds
/// it to Postgres (<c>metric_minutes</c> and <c>metric_hours</c>), where every replica's shares meet:
/// no replica can see another's in-memory metrics, and the dashboard must show the whole cluster.
/// Recording costs a dictionary lookup and a lock; nothing on a request's path touches the network.
/// </summary>
public sealed class MetricRollup(TimeProvider timeProvider)
{
    private readonly Accumulator<SeriesKey, SeriesCell> _series = new();

    /// <summary>Counts one measurement of <paramref name="value"/> (a count of 1 with a sum, e.g. tokens or dollars).</summary>
    public void Add(string name, double value, string dim1 = "", string dim2 = "", string dim3 = "") =>
        _series.Update(Key(name, dim1, dim2, dim3), value, static (cell, value) =>
        {
            cell.Count++;
            cell.Sum += value;
        });

    /// <summary>Counts one latency, in milliseconds, into the series' histogram.</summary>
    public void Observe(string name, double milliseconds, string dim1 = "", string dim2 = "", string dim3 = "") =>
        _series.Update(Key(name, dim1, dim2, dim3), milliseconds, static (cell, milliseconds) =>
        {
            cell.Count++;
            cell.Sum += milliseconds;
            (cell.Buckets ??= new long[LatencyHistogram.BucketCount])[LatencyHistogram.BucketOf(milliseconds)]++;
        });

    /// <summary>Everything recorded since the last drain.</summary>
    public IReadOnlyList<MetricSample> Drain() =>
        [.. _series.Drain().Select(pair => new MetricSample(
            pair.Key.Name, DateTimeOffset.FromUnixTimeSeconds(pair.Key.Minute * 60), pair.Key.Dim1, pair.Key.Dim2, pair.Key.Dim3,
            pair.Value.Count, pair.Value.Sum, pair.Value.Buckets))];

    /// <summary>Puts back samples that could not be written, so an outage of the database delays them instead of losing them.</summary>
    public void Restore(IEnumerable<MetricSample> samples)
    {
        foreach (var sample in samples)
        {
            _series.Update(new SeriesKey(sample.Name, sample.Minute.ToUnixTimeSeconds() / 60, sample.Dim1, sample.Dim2, sample.Dim3), sample,
                static (cell, sample) =>
                {
                    cell.Count += sample.Count;
                    cell.Sum += sample.Sum;
                    if (sample.Buckets is not null)
                    {
                        cell.Buckets = LatencyHistogram.Add(cell.Buckets, sample.Buckets);
                    }
                });
        }
    }

    private SeriesKey Key(string name, string dim1, string dim2, string dim3) =>
        new(name, timeProvider.GetUtcNow().ToUnixTimeSeconds() / 60, dim1, dim2, dim3);

    private readonly record struct SeriesKey(string Name, long Minute, string Dim1, string Dim2, string Dim3);

    private sealed class SeriesCell : Accumulator<SeriesKey, SeriesCell>.Cell
    {
        public long Count;
        public double Sum;
        public long[]? Buckets;

        public override bool IsEmpty => Count == 0;

        public override SeriesCell Take()
        {
            var taken = new SeriesCell { Count = Count, Sum = Sum, Buckets = Buckets };
            (Count, Sum, Buckets) = (0, 0, null);
            return taken;
        }
    }
}
