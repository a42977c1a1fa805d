using AspireLlm.Orchestration.Jobs;
using AspireLlm.Orchestration.Jobs.Events;
using Hangfire;

namespace AspireLlm.Api.Jobs;

/// <summary>
/// Enqueues an accepted job on its kind's Hangfire queue and records the Hangfire id. The job row is
/// committed first and is the durable record: if this process dies before the enqueue, or the enqueue
/// fails, the Worker's dispatcher finds the row without a Hangfire id and enqueues it. So there is
/// never a job without its queue entry (for longer than the dispatcher's sweep) and never a queue
/// entry without its job.
/// </summary>
public sealed partial class JobDispatcher(
    IBackgroundJobClient client, JobStore store, JobEventLog events, TimeProvider timeProvider, ILogger<JobDispatcher> logger)
{
    public async Task DispatchAsync(JobRecord job, CancellationToken cancellationToken)
    {
        try
        {
            // The stream's first event, so a watcher sees the job from its acceptance on.
            await events.AppendAsync(job.Id, JobEvent.ForStatus(JobStatus.Pending, timeProvider.GetUtcNow()));
        }
        catch (Exception exception) when (exception is StackExchange.Redis.RedisException or TimeoutException)
        {
            LogEventDeferred(logger, job.Id, exception);
        }

        try
        {
            var hangfireId = JobQueue.Enqueue(client, job.Id, job.Kind);
            await store.MarkDispatchedAsync(job.Id, hangfireId, CancellationToken.None);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // The job is committed; the Worker's sweep will enqueue it. The client still gets its 202.
            LogEnqueueDeferred(logger, job.Id, exception);
        }
    }

    [LoggerMessage(2002, LogLevel.Warning, "The accepted event of job {JobId} could not be published.")]
    private static partial void LogEventDeferred(ILogger logger, Guid jobId, Exception exception);

    [LoggerMessage(2001, LogLevel.Warning, "Enqueue of job {JobId} failed; the dispatcher sweep will enqueue it.")]
    private static partial void LogEnqueueDeferred(ILogger logger, Guid jobId, Exception exception);
}
