using AspireLlm.Orchestration.Jobs;
using Hangfire.States;
using Hangfire.Storage;

namespace AspireLlm.Worker.Jobs;

/// <summary>
/// When Hangfire gives a job up (retries exhausted, or deleted), the job row must end too: otherwise
/// it would stay pending or processing with nobody to run it. Hangfire filters are synchronous.
/// </summary>
internal sealed partial class JobFailureFilter(JobStore store, TimeProvider timeProvider, ILogger<JobFailureFilter> logger) : IApplyStateFilter
{
    public void OnStateApplied(ApplyStateContext context, IWriteOnlyTransaction transaction)
    {
        if (context.NewState is not (FailedState or DeletedState) || context.BackgroundJob.Job.Args is not [Guid jobId, ..])
        {
            return;
        }

        var ended = store.FailAsync(jobId, "retries_exhausted", "The job failed after its retries were exhausted.",
            timeProvider.GetUtcNow(), CancellationToken.None).GetAwaiter().GetResult();
        if (ended)
        {
            LogEnded(logger, jobId, context.NewState.Name);
        }
    }

    public void OnStateUnapplied(ApplyStateContext context, IWriteOnlyTransaction transaction)
    {
    }

    [LoggerMessage(3011, LogLevel.Warning, "Hangfire moved job {JobId} to {State}; the job is marked failed.")]
    private static partial void LogEnded(ILogger logger, Guid jobId, string state);
}
