namespace AspireLlm.Orchestration.Tokens;

/// <summary>
/// Runs CPU-heavy work that one caller asked for (checking, parsing, counting or redacting a huge
/// prompt, embedding a batch with the local model) on a thread of its own rather than one of the
/// thread pool's. A process that sees one CPU starts with a single pool thread and adds more only about
/// once a second: a pool thread held for a few hundred milliseconds left health probes and every other
/// request queued behind it (bench/run-hostile-bench.sh: /health p99 1.3 s under 8 hostile clients).
/// The thread keeps normal priority: at nice 10 it was starved by every other process on a shared
/// host, and a hostile-input test waited over 15 s for an embeddings answer on a busy machine.
/// </summary>
internal static class BackgroundCpuWork
{
    public static Task<T> RunAsync<T>(Func<T> work, CancellationToken cancellationToken) =>
        Task.Factory.StartNew(work, cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
}
