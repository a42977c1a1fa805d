using AspireLlm.Orchestration.Jobs;
using Hangfire;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AspireLlm.Worker.Jobs;

/// <summary>
/// Puts accepted jobs on their Hangfire queues. The Api commits a job row with a NOTIFY; this service
/// LISTENs, wakes at once and dispatches every pending row that has no queue entry yet (and sweeps on
/// a timer in case a notification was missed while it was reconnecting). The row is the durable
/// record of the job, so there is never a job without its queue entry for longer than one sweep, and
/// never a queue entry without its job.
/// </summary>
internal sealed partial class JobDispatcher(
    NpgsqlDataSource dataSource, JobStore store, IBackgroundJobClient client, IOptions<WorkerOptions> options,
    TimeProvider timeProvider, ILogger<JobDispatcher> logger, IOptions<Orchestration.Agents.AgentOptions>? agents = null) : BackgroundService
{
    private const int BatchSize = 200;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var sweep = TimeSpan.FromSeconds(options.Value.DispatchSweepSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
                await using (var listen = new NpgsqlCommand($"LISTEN {JobStore.DispatchChannel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                while (!stoppingToken.IsCancellationRequested)
                {
                    await DispatchAllAsync(stoppingToken);
                    await connection.WaitAsync(sweep, stoppingToken);
                }
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                // Postgres went away: back off, then listen again (and sweep what arrived meanwhile).
                LogDispatchFailed(logger, exception);
                await Task.Delay(TimeSpan.FromSeconds(1), timeProvider, stoppingToken);
            }
        }
    }

    private long _lastStaleCheck;

    private async Task DispatchAllAsync(CancellationToken cancellationToken)
    {
        // Stale rows are rare and the check scans: once per sweep interval, not on every notification.
        if (timeProvider.GetElapsedTime(_lastStaleCheck) >= TimeSpan.FromSeconds(options.Value.DispatchSweepSeconds))
        {
            _lastStaleCheck = timeProvider.GetTimestamp();
            await ReleaseStaleAsync(cancellationToken);
        }

        int dispatched;
        do
        {
            dispatched = await store.DispatchPendingAsync(job =>
            {
                using var activity = Observability.WorkerTelemetry.StartDispatch(job);
                return JobQueue.Enqueue(client, job.Id, job.DispatchId, job.Kind);
            }, cancellationToken);
        }
        while (dispatched == BatchSize);
    }

    /// <summary>
    /// A running job whose row has not moved for longer than its deadline plus the invisibility timeout
    /// has no live run; a pending one unmoved for <c>RedispatchPendingAfterSeconds</c> has lost its
    /// Hangfire job. Both go back to the dispatcher.
    /// </summary>
    private async Task ReleaseStaleAsync(CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var settings = options.Value;
        var pendingBefore = now - TimeSpan.FromSeconds(settings.RedispatchPendingAfterSeconds);
        var margin = TimeSpan.FromSeconds(settings.InvisibilityTimeoutSeconds + 60);
        var released =
            await store.ReleaseStaleAsync(JobKinds.ChatCompletion, pendingBefore, now - TimeSpan.FromSeconds(settings.ChatTimeoutSeconds) - margin, now, cancellationToken)
            + await store.ReleaseStaleAsync(JobKinds.Batch, pendingBefore, now - TimeSpan.FromSeconds(settings.BatchTimeoutSeconds) - margin, now, cancellationToken)
            + await store.ReleaseStaleAsync(JobKinds.Index, pendingBefore, now - TimeSpan.FromSeconds(settings.IndexTimeoutSeconds) - margin, now, cancellationToken)
            // An agent's row moves at every step; only one long model or tool call can keep it still, for at most a turn.
            + await store.ReleaseStaleAsync(JobKinds.Agent, pendingBefore, now - TimeSpan.FromSeconds(LongestAgentTurn) - margin, now, cancellationToken);
        if (released > 0)
        {
            LogReleased(logger, released);
        }
    }

    private int LongestAgentTurn =>
        agents?.Value.Definitions.Values.Select(agent => agent.DeadlineSeconds).DefaultIfEmpty(300).Max() ?? 300;

    [LoggerMessage(3103, LogLevel.Warning, "{Count} job(s) made no progress for too long and were dispatched again.")]
    private static partial void LogReleased(ILogger logger, int count);

    [LoggerMessage(3102, LogLevel.Warning, "Job dispatch failed; retrying in a second.")]
    private static partial void LogDispatchFailed(ILogger logger, Exception exception);
}
