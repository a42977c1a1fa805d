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
    public async Task<(CancelOutcome Outcome, JobRecord Job)> CancelAsync(JobRecord job, CancellationToken cancellationToken) =>
        (await CancelAsync(job.Id, cancellationToken), (await store.GetAsync(job.Id, cancellationToken))!);

    /// <summary>
    /// Cancels every job a revoked key left pending or running: pending ones never start, running ones
    /// are told to stop (within a second). Returns how many were reached.
    /// </summary>
    public async Task<int> CancelAllOfKeyAsync(Guid apiKeyId, CancellationToken cancellationToken)
    {
        var active = await store.ActiveJobIdsOfKeyAsync(apiKeyId, cancellationToken);
        foreach (var id in active)
        {
            await CancelAsync(id, cancellationToken);
        }

        return active.Count;
    }

    private async Task<CancelOutcome> CancelAsync(Guid jobId, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (await store.CancelPendingAsync(jobId, timeProvider.GetUtcNow(), cancellationToken))
            {
                if (await store.GetAsync(jobId, cancellationToken) is { } cancelled)
                {
                    await notifications.FinalAsync(cancelled);
                }

                return CancelOutcome.Cancelled;
            }

            if (await store.RequestCancelAsync(jobId, timeProvider.GetUtcNow(), cancellationToken))
            {
                // The request is stored first, so a worker that misses this message still sees it on its poll.
                await notifications.CancelRequestedAsync(jobId);
                return CancelOutcome.Requested;
            }

            if (await store.GetAsync(jobId, cancellationToken) is not { } current || JobStatus.IsFinal(current.Status))
            {
                return CancelOutcome.AlreadyFinished;
            }

            // It moved from pending to processing meanwhile: try again.
        }
    }
}
