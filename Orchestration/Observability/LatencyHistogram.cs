namespace AspireLlm.Orchestration.Observability;

/// <summary>
/// Fixed latency buckets shared by every process and the database (<c>metric_minutes.buckets</c>), so
/// histograms from any number of replicas add up element-wise and percentiles can be read from the
/// sum. Bucket <c>i</c> holds values up to <c>0.5 ms × 1.25^i</c> (the last holds everything above
/// about 10 minutes): a percentile read from it is within 12 % of the true value.
/// </summary>
public static class LatencyHistogram
{
    public const int BucketCount = 64;
    private const double First = 0.5;
    private const double Growth = 1.25;
    private static readonly double LogGrowth = Math.Log(Growth);

    /// <summary>The upper bound of each bucket, in milliseconds.</summary>
    public static IReadOnlyList<double> UpperBounds { get; } = [.. Enumerable.Range(0, BucketCount).Select(i => First * Math.Pow(Growth, i))];

    public static int BucketOf(double milliseconds) =>
        milliseconds <= First ? 0 : Math.Min(BucketCount - 1, (int)Math.Ceiling(Math.Log(milliseconds / First) / LogGrowth - 1e-9));

    /// <summary>The <paramref name="quantile"/> (0..1) of a histogram, interpolated inside its bucket; null when it is empty.</summary>
    public static double? Percentile(IReadOnlyList<long>? buckets, double quantile)
    {
        if (buckets is null)
        {
            return null;
        }

        var total = buckets.Sum();
        if (total == 0)
        {
            return null;
        }

        var rank = quantile * total;
        long seen = 0;
        for (var i = 0; i < buckets.Count; i++)
        {
            if (buckets[i] == 0)
            {
                continue;
            }

            if (seen + buckets[i] >= rank)
            {
                var lower = i == 0 ? 0 : UpperBounds[i - 1];
                var upper = UpperBounds[Math.Min(i, BucketCount - 1)];
                return lower + (upper - lower) * Math.Clamp((rank - seen) / buckets[i], 0, 1);
            }

            seen += buckets[i];
        }

        return UpperBounds[^1];
    }

    /// <summary>Adds <paramref name="other"/> into <paramref name="into"/> (either may be shorter).</summary>
    public static long[] Add(long[]? into, IReadOnlyList<long>? other)
    {
        into ??= new long[BucketCount];
        if (other is not null)
        {
            for (var i = 0; i < Math.Min(into.Length, other.Count); i++)
            {
                into[i] += other[i];
            }
        }

        return into;
    }
}
