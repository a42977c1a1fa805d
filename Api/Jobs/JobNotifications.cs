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

    /// <summary>
    /// The first event of a job just accepted: <c>pending</c>, or for an agent task <c>task_started</c>
    /// as event 1 (the Worker that starts it sends the same event 1 should this one be lost, and only one lands).
    /// </summary>
    public Task AcceptedAsync(Guid jobId, string kind, Orchestration.Agents.AgentEvent? started = null) =>
        kind == JobKinds.Agent && started is not null
            ? PublishQuietlyAsync(jobId, () => events.AppendAtAsync(jobId, 1, started.ToUtf8()))
            : StatusAsync(jobId, JobStatus.Pending);

    /// <summary>The final event of a job the Api ended (cancelled before it ran), as its stored state says.</summary>
    public Task FinalAsync(JobRecord job) =>
        job.Kind == JobKinds.Agent
            ? PublishQuietlyAsync(job.Id, () => events.AppendAsync(job.Id, Orchestration.Agents.AgentEvent.FinalOf(job).ToUtf8()))
            : StatusAsync(job.Id, job.Status);

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
