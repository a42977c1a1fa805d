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
    TimeProvider timeProvider, ILogger<JobDispatcher> logger) : BackgroundService
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
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // Postgres went away: back off, then listen again (and sweep what arrived meanwhile).
                LogDispatchFailed(logger, exception);
                await Task.Delay(TimeSpan.FromSeconds(1), timeProvider, stoppingToken);
            }
        }
    }

    private async Task DispatchAllAsync(CancellationToken cancellationToken)
    {
        int dispatched;
        do
        {
            dispatched = await store.DispatchPendingAsync(
                timeProvider.GetUtcNow(), (id, kind) => JobQueue.Enqueue(client, id, kind), cancellationToken);
        }
        while (dispatched == BatchSize);
    }

    [LoggerMessage(5002, LogLevel.Warning, "Job dispatch failed; retrying in a second.")]
    private static partial void LogDispatchFailed(ILogger logger, Exception exception);
}
