using AspireLlm.Orchestration.Jobs;

namespace AspireLlm.Api.Jobs;

public enum CancelOutcome
{
    Cancelled,
    Requested,
    AlreadyFinished,
}

/// <summary>The Api's half of cancellation: it decides by the job's state and tells the workers.</summary>
public sealed class JobCancellation(JobStore store, JobNotifications notifications, TimeProvider timeProvider)
{
    public async Task<(CancelOutcome Outcome, JobRecord Job)> CancelAsync(JobRecord job, CancellationToken cancellationToken)
    {
        if (await store.CancelPendingAsync(job.Id, timeProvider.GetUtcNow(), cancellationToken))
        {
            await notifications.StatusAsync(job.Id, JobStatus.Cancelled);
            return (CancelOutcome.Cancelled, (await store.GetAsync(job.Id, cancellationToken))!);
        }

        if (await store.RequestCancelAsync(job.Id, timeProvider.GetUtcNow(), cancellationToken))
        {
            // The request is stored first, so a worker that misses this message still sees it on its poll.
            await notifications.CancelRequestedAsync(job.Id);
            return (CancelOutcome.Requested, (await store.GetAsync(job.Id, cancellationToken))!);
        }

        var current = (await store.GetAsync(job.Id, cancellationToken))!;
        return JobStatus.IsFinal(current.Status)
            ? (CancelOutcome.AlreadyFinished, current)
            : await CancelAsync(current, cancellationToken); // it moved from pending to processing meanwhile
    }
}
