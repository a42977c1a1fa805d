using AspireLlm.Orchestration.Jobs;
using AspireLlm.Orchestration.Jobs.Events;
using StackExchange.Redis;

namespace AspireLlm.Api.Jobs;

/// <summary>
/// What the Api tells watchers and workers about a job. The job's state of record is already committed
/// in Postgres when these run, so a Redis failure is logged and the request still succeeds: watchers
/// fall back to the stored state and workers poll for cancellations.
/// </summary>
public sealed partial class JobNotifications(
    JobEventLog events, IConnectionMultiplexer redis, TimeProvider timeProvider, ILogger<JobNotifications> logger)
{
    public Task StatusAsync(Guid jobId, string status) =>
        PublishQuietlyAsync(jobId, () => events.AppendAsync(jobId, JobEvent.ForStatus(status, timeProvider.GetUtcNow())));

    public Task CancelRequestedAsync(Guid jobId) =>
        PublishQuietlyAsync(jobId, () => JobCancellationChannel.PublishAsync(redis, jobId));

    private async Task PublishQuietlyAsync(Guid jobId, Func<Task> publish)
    {
        try
        {
            await publish();
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            LogPublishFailed(logger, jobId, exception);
        }
    }

    [LoggerMessage(2101, LogLevel.Warning, "A notification about job {JobId} could not be published; the stored state stands.")]
    private static partial void LogPublishFailed(ILogger logger, Guid jobId, Exception exception);
}
