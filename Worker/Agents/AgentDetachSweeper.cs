using AspireLlm.Orchestration.Agents;
using AspireLlm.Orchestration.Jobs;
using AspireLlm.Orchestration.Jobs.Events;
using AspireLlm.Worker.Jobs;
using StackExchange.Redis;

namespace AspireLlm.Worker.Agents;

/// <summary>
/// Cancels agent tasks whose WebSocket client left and did not come back: an Api replica keeps a
/// watched task's attachment lease (<c>agent_tasks.attached_until</c>) renewed, and once it lapses —
/// the grace period after the last session closed, or after that replica died — the task is cancelled
/// like any job: at once if it is waiting (its last event is the <c>cancelled</c> error), else through
/// the cancellation channel to the Worker running it. Every Worker sweeps; a lapsed task is claimed once.
/// </summary>
internal sealed partial class AgentDetachSweeper(
    AgentStore agents, JobStore jobs, JobReporter reporter, RunningJobs running, IConnectionMultiplexer redis, TimeProvider timeProvider,
    ILogger<AgentDetachSweeper> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, timeProvider);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                foreach (var jobId in await agents.ClaimDetachedAsync(timeProvider.GetUtcNow(), stoppingToken))
                {
                    LogDetached(logger, jobId);
                    await CancelAsync(jobId, stoppingToken);
                }
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                LogSweepFailed(logger, exception);
            }
        }
    }

    private async Task CancelAsync(Guid jobId, CancellationToken cancellationToken)
    {
        if (await jobs.CancelPendingAsync(jobId, timeProvider.GetUtcNow(), cancellationToken))
        {
            await reporter.FinalAsync(jobId);
        }
        else if (await jobs.RequestCancelAsync(jobId, timeProvider.GetUtcNow(), cancellationToken) && !running.Cancel(jobId))
        {
            await JobCancellationChannel.PublishAsync(redis, jobId);
        }
    }

    [LoggerMessage(3710, LogLevel.Information, "Agent task {JobId} was left by its client past the grace period; cancelling it.")]
    private static partial void LogDetached(ILogger logger, Guid jobId);

    [LoggerMessage(3711, LogLevel.Warning, "The detached agent task sweep failed; it runs again shortly.")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
