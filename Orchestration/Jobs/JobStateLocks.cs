using Hangfire.Storage;

namespace AspireLlm.Orchestration.Jobs;

/// <summary>
/// Hangfire's per-job state lock (<c>job:{id}:state-lock</c>, taken around each of a job's state
/// changes, twice per job) held in this process rather than in Postgres. As an advisory lock it cost
/// four round trips per job and a pooled connection each time, about an eighth of the statements a
/// job sends (bench/JobsBench, <c>--diagnose</c>). Nothing needs it to exclude other processes: a
/// Hangfire job here only carries one of our job rows to a worker, no code of ours changes Hangfire
/// states, and the one worker that fetched a job makes both its changes. Should a job still be
/// delivered twice (its invisibility timeout ran out under a live worker), the jobs row decides:
/// <see cref="JobStore.TryStartAsync"/> checks the dispatch and status, and finishing is guarded by
/// the status, so the second delivery does nothing, as it would with the lock.
/// </summary>
internal static class JobStateLocks
{
    // Striped: a lock per job would need a map that grows and shrinks with every job. A stripe is held
    // for a state change's few statements only, so sharing one between jobs costs a short wait at most.
    private static readonly SemaphoreSlim[] Stripes = [.. Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1))];

    private const string Prefix = "job:";
    private const string Suffix = ":state-lock";

    public static bool IsJobStateLock(string resource) =>
        resource.StartsWith(Prefix, StringComparison.Ordinal) && resource.EndsWith(Suffix, StringComparison.Ordinal);

    /// <exception cref="DistributedLockTimeoutException">Another worker in this process held it for the whole timeout.</exception>
    public static IDisposable Acquire(string resource, TimeSpan timeout)
    {
        var stripe = Stripes[(StringComparer.Ordinal.GetHashCode(resource) & int.MaxValue) % Stripes.Length];
        if (!stripe.Wait(timeout))
        {
            throw new DistributedLockTimeoutException(resource);
        }

        return new Held(stripe);
    }

    private sealed class Held(SemaphoreSlim stripe) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                stripe.Release();
            }
        }
    }
}
