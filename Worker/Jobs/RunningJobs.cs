using System.Collections.Concurrent;

namespace AspireLlm.Worker.Jobs;

/// <summary>
/// The jobs this worker process is running, each with a token that fires when its cancellation is
/// requested. Fed by <see cref="CancellationListener"/> (Redis message and a one-second database poll).
/// </summary>
internal sealed class RunningJobs
{
    private readonly ConcurrentDictionary<Guid, CancellationTokenSource> _running = new();

    /// <summary>Registers a run; dispose the result when the run ends.</summary>
    public Registration Register(Guid jobId)
    {
        var source = new CancellationTokenSource();
        _running[jobId] = source;
        return new Registration(this, jobId, source);
    }

    public IReadOnlyCollection<Guid> Ids => [.. _running.Keys];

    /// <summary>Cancels the job if this process runs it; true when it did.</summary>
    public bool Cancel(Guid jobId)
    {
        if (!_running.TryGetValue(jobId, out var source))
        {
            return false;
        }

        try
        {
            source.Cancel();
            return true;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    internal sealed class Registration(RunningJobs owner, Guid jobId, CancellationTokenSource source) : IDisposable
    {
        public CancellationToken Token => source.Token;

        public bool CancellationRequested => source.IsCancellationRequested;

        public void Dispose()
        {
            owner._running.TryRemove(new KeyValuePair<Guid, CancellationTokenSource>(jobId, source));
            source.Dispose();
        }
    }
}
