using AspireLlm.Orchestration.Jobs;
using AspireLlm.Orchestration.Jobs.Events;
using StackExchange.Redis;

namespace AspireLlm.Worker.Jobs;

/// <summary>
/// Delivers cancellation requests to the jobs this process runs: at once through Redis pub/sub, and
/// through a one-second poll of the database, so that a request is observed within a second even
/// when the message is lost (Redis restarted, subscription not yet re-established).
/// </summary>
internal sealed partial class CancellationListener(
    RunningJobs running, JobStore store, IConnectionMultiplexer redis, TimeProvider timeProvider, ILogger<CancellationListener> logger)
    : BackgroundService
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await SubscribeAsync();

        using var timer = new PeriodicTimer(PollInterval, timeProvider);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var ids = running.Ids;
            if (ids.Count == 0)
            {
                continue;
            }

            try
            {
                foreach (var id in await store.CancelRequestedAsync(ids, stoppingToken))
                {
                    running.Cancel(id);
                }
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                LogPollFailed(logger, exception);
            }
        }
    }

    private async Task SubscribeAsync()
    {
        try
        {
            await redis.GetSubscriber().SubscribeAsync(JobCancellationChannel.Channel, (_, message) =>
            {
                if (Guid.TryParse((string?)message, out var id) && running.Cancel(id))
                {
                    LogCancelled(logger, id);
                }
            });
        }
        catch (RedisException exception)
        {
            // The poll still delivers cancellations; only their latency suffers.
            LogSubscribeFailed(logger, exception);
        }
    }

    [LoggerMessage(3201, LogLevel.Information, "Cancellation of job {JobId} delivered to its run.")]
    private static partial void LogCancelled(ILogger logger, Guid jobId);

    [LoggerMessage(3202, LogLevel.Warning, "Could not subscribe to cancellations; relying on the database poll.")]
    private static partial void LogSubscribeFailed(ILogger logger, Exception exception);

    [LoggerMessage(3203, LogLevel.Warning, "The cancellation poll failed; it runs again in a second.")]
    private static partial void LogPollFailed(ILogger logger, Exception exception);
}
