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
/// the status, so the job is finished and charged once. The lock never covered the run itself, only
/// each state change; without it, the two deliveries' Hangfire states may overwrite each other, and
/// Hangfire's state is only bookkeeping here.
/// </summary>
internal static class JobStateLocks
{
    // One gate per job while anyone holds or waits for it, removed with its last user; not stripes
    // shared between jobs, which would deadlock a thread that held two jobs' locks at once.
    private static readonly Dictionary<string, Gate> Gates = new(StringComparer.Ordinal);

    private const string Prefix = "job:";
    private const string Suffix = ":state-lock";

    public static bool IsJobStateLock(string resource) =>
        resource.StartsWith(Prefix, StringComparison.Ordinal) && resource.EndsWith(Suffix, StringComparison.Ordinal);

    /// <exception cref="DistributedLockTimeoutException">Another worker in this process held it for the whole timeout.</exception>
    public static IDisposable Acquire(string resource, TimeSpan timeout)
    {
        Gate gate;
        lock (Gates)
        {
            if (!Gates.TryGetValue(resource, out gate!))
            {
                Gates[resource] = gate = new Gate();
            }

            gate.Users++;
        }

        bool entered;
        try
        {
            entered = gate.Semaphore.Wait(timeout);
        }
        catch
        {
            Leave(resource, gate);
            throw;
        }

        if (!entered)
        {
            Leave(resource, gate);
            throw new DistributedLockTimeoutException(resource);
        }

        return new Held(resource, gate);
    }

    private static void Leave(string resource, Gate gate)
    {
        lock (Gates)
        {
            if (--gate.Users == 0)
            {
                Gates.Remove(resource);
            }
        }
    }

    private sealed class Gate
    {
        public SemaphoreSlim Semaphore { get; } = new(1, 1);

        public int Users { get; set; }
    }

    private sealed class Held(string resource, Gate gate) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                gate.Semaphore.Release();
                Leave(resource, gate);
            }
        }
    }
}
