using AspireLlm.Orchestration.Jobs;
using Hangfire;
using Microsoft.Extensions.Options;

namespace AspireLlm.Worker.Jobs;

/// <summary>
/// Enqueues accepted jobs that never reached Hangfire because the accepting Api process died (or
/// Hangfire's tables were unreachable) between committing the row and enqueueing it. This is the
/// other half of the outbox-style guarantee that every job row gets its queue entry.
/// </summary>
internal sealed partial class StrandedJobSweeper(
    JobStore store, IBackgroundJobClient client, IOptions<WorkerOptions> options, TimeProvider timeProvider,
    ILogger<StrandedJobSweeper> logger) : BackgroundService
{
    /// <summary>Rows younger than this may still be enqueued by the Api request that created them.</summary>
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(15);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.DispatchSweepSeconds), timeProvider);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var count = await store.DispatchStrandedAsync(
                    timeProvider.GetUtcNow() - Grace, (id, kind) => JobQueue.Enqueue(client, id, kind), stoppingToken);
                if (count > 0)
                {
                    LogDispatched(logger, count);
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                LogSweepFailed(logger, exception);
            }
        }
    }

    [LoggerMessage(5001, LogLevel.Warning, "Enqueued {Count} job(s) whose enqueue had not happened.")]
    private static partial void LogDispatched(ILogger logger, int count);

    [LoggerMessage(5002, LogLevel.Warning, "The stranded-job sweep failed; it runs again on the next tick.")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
