namespace AspireLlm.Orchestration.Tokens;

/// <summary>
/// Runs CPU-heavy work that one caller asked for (checking, parsing, counting or redacting a huge
/// prompt, embedding a batch with the local model) on a thread of its own rather than one of the
/// thread pool's. A process that sees one CPU starts with a single pool thread and adds more only about
/// once a second: a pool thread held for a few hundred milliseconds left health probes and every other
/// request queued behind it (bench/run-hostile-bench.sh: /health p99 1.3 s under 8 hostile clients).
/// How the thread is scheduled is <see cref="Priority"/> (see <see cref="HeavyWorkPriority"/>).
/// </summary>
internal static class BackgroundCpuWork
{
    private static readonly long YieldInterval = System.Diagnostics.Stopwatch.Frequency / 1000;

    [ThreadStatic]
    private static long _nextYield;

    /// <summary>Set once at start from <c>Orchestration:HeavyWorkPriority</c>.</summary>
    public static HeavyWorkPriority Priority { get; set; } = HeavyWorkPriority.Normal;

    public static Task<T> RunAsync<T>(Func<T> work, CancellationToken cancellationToken) =>
        Task.Factory.StartNew(() =>
        {
            // A LongRunning task has a thread of its own that ends with it, so the policy never outlives the work.
            if (Priority == HeavyWorkPriority.Idle)
            {
                ThreadScheduling.MakeCurrentThreadIdle();
            }

            _nextYield = System.Diagnostics.Stopwatch.GetTimestamp() + YieldInterval;
            try
            {
                return work();
            }
            finally
            {
                _nextYield = 0;
            }
        }, cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>
    /// Called between pieces of long work: on a thread of this kind, gives the CPU to any runnable thread
    /// once a millisecond. The scheduler would otherwise let this thread run out its slice (a few ms)
    /// before a request's woken thread, at every hop of that request.
    /// </summary>
    public static void YieldNow()
    {
        if (_nextYield != 0 && System.Diagnostics.Stopwatch.GetTimestamp() >= _nextYield)
        {
            Thread.Yield();
            _nextYield = System.Diagnostics.Stopwatch.GetTimestamp() + YieldInterval;
        }
    }
}
