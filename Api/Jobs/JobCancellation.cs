using AspireLlm.Orchestration.Jobs;
using AspireLlm.Orchestration.Jobs.Events;
using StackExchange.Redis;

namespace AspireLlm.Api.Jobs;

public enum CancelOutcome
{
    Cancelled,
    Requested,
    AlreadyFinished,
}

/// <summary>The Api's half of cancellation: it decides by the job's state and tells the workers.</summary>
public sealed partial class JobCancellation(
    JobStore store, JobEventLog events, IConnectionMultiplexer redis, TimeProvider timeProvider, ILogger<JobCancellation> logger)
{
    public async Task<(CancelOutcome Outcome, JobRecord Job)> CancelAsync(JobRecord job, CancellationToken cancellationToken)
    {
        if (await store.CancelPendingAsync(job.Id, timeProvider.GetUtcNow(), cancellationToken))
        {
            await PublishQuietlyAsync(() => events.AppendAsync(job.Id, JobEvent.ForStatus(JobStatus.Cancelled, timeProvider.GetUtcNow())));
            return (CancelOutcome.Cancelled, (await store.GetAsync(job.Id, cancellationToken))!);
        }

        if (await store.RequestCancelAsync(job.Id, timeProvider.GetUtcNow(), cancellationToken))
        {
            // The request is stored first, so a worker that misses this message still sees it on its poll.
            await PublishQuietlyAsync(() => JobCancellationChannel.PublishAsync(redis, job.Id));
            return (CancelOutcome.Requested, (await store.GetAsync(job.Id, cancellationToken))!);
        }

        var current = (await store.GetAsync(job.Id, cancellationToken))!;
        return JobStatus.IsFinal(current.Status)
            ? (CancelOutcome.AlreadyFinished, current)
            : await CancelAsync(current, cancellationToken); // it moved from pending to processing meanwhile
    }

    private async Task PublishQuietlyAsync(Func<Task> publish)
    {
        try
        {
            await publish();
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            LogPublishFailed(logger, exception);
        }
    }

    [LoggerMessage(2101, LogLevel.Warning, "Could not publish a cancellation; workers will see it on their database poll.")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception);
}
