using System.Collections.Concurrent;
using System.Diagnostics;

namespace AspireLlm.Bench;

/// <summary>N concurrent callers, each sending its next request as soon as the last answered, for a fixed time.</summary>
internal static class LoadDriver
{
    public static async Task<LoadResult> RunAsync(int concurrency, TimeSpan duration, Func<HttpClient, Task<bool>> call, HttpClient http)
    {
        var latencies = new ConcurrentBag<double>();
        var failures = 0;
        var stopAt = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (Stopwatch.GetTimestamp() < stopAt)
            {
                var begin = Stopwatch.GetTimestamp();
                var ok = await call(http);
                latencies.Add(Stopwatch.GetElapsedTime(begin).TotalMilliseconds);
                if (!ok)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }));

        return new LoadResult([.. latencies.Order()], failures, Stopwatch.GetElapsedTime(started));
    }
}

internal static class PacedLoadDriver
{
    /// <summary>
    /// Open loop: N callers together send <paramref name="perSecond"/> requests a second on a fixed
    /// schedule, whatever the latency, so the latency measured is that of a system that keeps up.
    /// </summary>
    public static async Task<LoadResult> RunAsync(int concurrency, double perSecond, TimeSpan duration, Func<HttpClient, Task<bool>> call, HttpClient http)
    {
        var latencies = new ConcurrentBag<double>();
        var failures = 0;
        var interval = TimeSpan.FromSeconds(concurrency / perSecond);
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async caller =>
        {
            var next = TimeSpan.FromSeconds(interval.TotalSeconds * caller / concurrency);
            while (next < duration)
            {
                var wait = next - Stopwatch.GetElapsedTime(started);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait);
                }

                var begin = Stopwatch.GetTimestamp();
                if (!await call(http))
                {
                    Interlocked.Increment(ref failures);
                }

                latencies.Add(Stopwatch.GetElapsedTime(begin).TotalMilliseconds);
                next += interval;
            }
        }));

        return new LoadResult([.. latencies.Order()], failures, Stopwatch.GetElapsedTime(started));
    }
}

internal sealed record LoadResult(double[] SortedLatenciesMs, int Failures, TimeSpan Elapsed)
{
    public int Count => SortedLatenciesMs.Length;

    public double PerSecond => Count / Elapsed.TotalSeconds;

    public double Percentile(double p) => SortedLatenciesMs.Length == 0 ? double.NaN
        : SortedLatenciesMs[Math.Min(SortedLatenciesMs.Length - 1, (int)Math.Ceiling(p / 100 * SortedLatenciesMs.Length) - 1)];
}
