namespace AspireLlm.Orchestration.Resilience;

/// <summary>
/// Exponentially weighted moving average of a deployment's time to first answer, for the
/// least-latency strategy. Races between concurrent updates lose an occasional sample, which an
/// average does not notice; a lock would cost more than it saves.
/// </summary>
public sealed class LatencyTracker
{
    private const double Weight = 0.2;
    private double _averageMs = double.NaN;

    /// <summary>Milliseconds; NaN until the first sample, so untried deployments can be tried first.</summary>
    public double AverageMs => Volatile.Read(ref _averageMs);

    public void Record(TimeSpan elapsed)
    {
        var sample = elapsed.TotalMilliseconds;
        var current = Volatile.Read(ref _averageMs);
        Volatile.Write(ref _averageMs, double.IsNaN(current) ? sample : current + Weight * (sample - current));
    }
}
