using AspireLlm.Orchestration.Observability;
using Microsoft.Extensions.Time.Testing;

namespace AspireLlm.UnitTests.Observability;

/// <summary>The in-memory side of the metric rollups: sums per minute, drained once, restored after a failed write; percentiles from summed histograms.</summary>
public sealed class MetricRollupTests
{
    [Fact]
    public void Measurements_are_summed_per_minute_and_series_and_drained_once()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 12, 0, 10, TimeSpan.Zero));
        var rollup = new MetricRollup(time);
        rollup.Add(MetricNames.Tokens, 10, "sim", "input");
        rollup.Add(MetricNames.Tokens, 5, "sim", "input");
        rollup.Observe(MetricNames.HttpRequests, 12, "chat", "2xx");
        time.Advance(TimeSpan.FromMinutes(1));
        rollup.Add(MetricNames.Tokens, 7, "sim", "input");

        var drained = rollup.Drain();

        Assert.Equal(3, drained.Count);
        var first = drained.Single(s => s.Name == MetricNames.Tokens && s.Minute.Minute == 0);
        Assert.Equal((2L, 15.0), (first.Count, first.Sum));
        Assert.Equal(1, drained.Single(s => s.Name == MetricNames.HttpRequests).Buckets!.Sum());
        Assert.Empty(rollup.Drain());
    }

    [Fact]
    public void Samples_that_could_not_be_written_are_kept_for_the_next_flush()
    {
        var rollup = new MetricRollup(new FakeTimeProvider());
        rollup.Observe(MetricNames.ModelAttempts, 100, "sim", "ok");
        var failed = rollup.Drain();
        rollup.Observe(MetricNames.ModelAttempts, 300, "sim", "ok");

        rollup.Restore(failed);
        var retried = Assert.Single(rollup.Drain());

        Assert.Equal((2L, 400.0), (retried.Count, retried.Sum));
        Assert.Equal(2, retried.Buckets!.Sum());
    }

    [Fact]
    public void Percentiles_of_summed_histograms_are_within_the_bucket_width()
    {
        long[]? sum = null;
        var replicaA = new long[LatencyHistogram.BucketCount];
        var replicaB = new long[LatencyHistogram.BucketCount];
        for (var ms = 1; ms <= 500; ms++)
        {
            replicaA[LatencyHistogram.BucketOf(ms)]++;
            replicaB[LatencyHistogram.BucketOf(ms + 500)]++;
        }

        sum = LatencyHistogram.Add(LatencyHistogram.Add(sum, replicaA), replicaB);

        Assert.InRange(LatencyHistogram.Percentile(sum, 0.5)!.Value, 500 / 1.25, 500 * 1.25);
        Assert.InRange(LatencyHistogram.Percentile(sum, 0.99)!.Value, 990 / 1.25, 990 * 1.25);
        Assert.Null(LatencyHistogram.Percentile(new long[LatencyHistogram.BucketCount], 0.5));
    }
}
