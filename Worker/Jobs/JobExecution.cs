using System.Text.Json;
using AspireLlm.Orchestration.Admission;
using AspireLlm.Orchestration.Jobs;
using Microsoft.Extensions.Options;

namespace AspireLlm.Worker.Jobs;

/// <summary>What a job body produced: the result to store and the usage to charge.</summary>
internal sealed record JobOutcome(JsonElement Result, JsonElement Usage, UsageEntry Charge)
{
    /// <summary>The body handed the job back itself (an agent waiting for a person): nothing to store or charge now.</summary>
    public static JobOutcome Released { get; } = new(default, default, new UsageEntry("", "", 0, 0, 0m));
}

/// <summary>What a job body may use while it runs: its token and a place to count usage as it goes.</summary>
internal sealed class JobRunContext(JobRecord job, CancellationToken cancellationToken)
{
    public JobRecord Job { get; } = job;

    public CancellationToken CancellationToken { get; } = cancellationToken;

    /// <summary>Usage so far, charged if the job is cancelled before it finishes.</summary>
    public UsageEntry? PartialUsage { get; set; }
}

/// <summary>
/// The lifecycle every job kind shares: start (idempotently), run the body under its deadline, the
/// worker's shutdown token and its cancellation, then end in exactly one of completed, failed or
/// cancelled (charging and notifying once), or hand the job back to Hangfire for a retry.
/// </summary>
internal sealed partial class JobExecution(
    JobStore store, JobReporter reporter, RunningJobs running, TimeProvider timeProvider, ILogger<JobExecution> logger,
    Observability.WorkerTelemetry? telemetry = null)
{
    /// <summary>Identifies this process in the job's step log and <c>worker</c> column.</summary>
    public static readonly string WorkerName = $"{Environment.MachineName}:{Environment.ProcessId}";

    public Task RunAsync(Guid jobId, Guid dispatchId, TimeSpan timeout, Func<JobRunContext, Task<JobOutcome>> body, CancellationToken shutdown) =>
        RunAsync(jobId, dispatchId, _ => timeout, body, shutdown);

    /// <param name="timeout">The run's deadline, from the job (an agent task's comes from its input).</param>
    public async Task RunAsync(Guid jobId, Guid dispatchId, Func<JobRecord, TimeSpan> timeout, Func<JobRunContext, Task<JobOutcome>> body, CancellationToken shutdown)
    {
        var job = await store.TryStartAsync(jobId, dispatchId, WorkerName, timeProvider.GetUtcNow(), shutdown);
        if (job is null)
        {
            LogNotStarted(logger, jobId);
            return;
        }

        // The run continues the trace of the request that created the job; its model calls are children.
        using var activity = Observability.WorkerTelemetry.StartRun(job);
        telemetry?.Started(job, timeProvider.GetUtcNow());
        var started = timeProvider.GetTimestamp();
        var outcome = "failed";
        try
        {
            outcome = await RunStartedAsync(job, timeout, body, shutdown);
        }
        catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
        {
            outcome = "requeued";
            throw;
        }
        finally
        {
            activity?.SetTag("aspirellm.job.outcome", outcome);
            if (outcome == "failed")
            {
                activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error);
            }

            telemetry?.Finished(job.Kind, outcome, timeProvider.GetElapsedTime(started));
        }
    }

    /// <summary>Runs a started job to one of its ends; returns which (completed, failed, cancelled, deferred, requeued).</summary>
    private async Task<string> RunStartedAsync(JobRecord job, Func<JobRecord, TimeSpan> timeoutOf, Func<JobRunContext, Task<JobOutcome>> body, CancellationToken shutdown)
    {
        var jobId = job.Id;
        using var registration = running.Register(jobId);
        await reporter.StatusAsync(job, JobStatus.Processing, attempt: job.Attempts, run: job.Run);
        if (job.CancelRequestedAt is not null)
        {
            // Cancelled while a worker that has since died was running it.
            running.Cancel(jobId);
        }

        using var deadline = new CancellationTokenSource(SafeTimeout(timeoutOf, job), timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(shutdown, deadline.Token, registration.Token);
        var context = new JobRunContext(job, linked.Token);
        try
        {
            var outcome = await body(context);
            if (ReferenceEquals(outcome, JobOutcome.Released))
            {
                return "deferred";
            }

            if (await store.CompleteAsync(job, outcome.Result, outcome.Usage, outcome.Charge, timeProvider.GetUtcNow(), CancellationToken.None))
            {
                await reporter.CompletedAsync(job);
            }

            return "completed";
        }
        catch (Exception) when (registration.CancellationRequested)
        {
            var usage = context.PartialUsage;
            var usageJson = usage is null ? (JsonElement?)null : JsonSerializer.SerializeToElement(new
            {
                prompt_tokens = usage.InputTokens,
                completion_tokens = usage.OutputTokens,
                total_tokens = usage.InputTokens + usage.OutputTokens,
            });
            await store.MarkCancelledAsync(jobId, usageJson, usage, timeProvider.GetUtcNow(), CancellationToken.None);
            LogCancelled(logger, jobId);
            await reporter.FinalAsync(jobId);
            return "cancelled";
        }
        catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
        {
            // The worker is shutting down: hand the job back so Hangfire requeues it for another run.
            await store.RequeueAsync(jobId, "worker shutting down", timeProvider.GetUtcNow(), CancellationToken.None);
            await reporter.StatusAsync(job, JobStatus.Pending);
            throw;
        }
        catch (ModelAdmissionException refusal) when (refusal.Refusal == AdmissionRefusal.RateLimited)
        {
            // A per-minute limit: the job runs again when the window allows, without using an attempt.
            var now = timeProvider.GetUtcNow();
            var until = now + (refusal.RetryAfter ?? TimeSpan.FromSeconds(5));
            await store.DeferAsync(jobId, until, "the rate limit", refusal.Message, countsAsAttempt: false, now, CancellationToken.None);
            LogRateLimited(logger, jobId, until);
            await reporter.StatusAsync(job, JobStatus.Pending);
            return "deferred";
        }
        catch (Exception exception) when (TransientFaults.IsTransient(exception, deadline.IsCancellationRequested)
                                          && job.Attempts < IChatCompletionJob.MaxAttempts
                                          // An agent's turn deadline is its limit, not a fault: another run would only take as long.
                                          && !(job.Kind == JobKinds.Agent && deadline.IsCancellationRequested))
        {
            // Scheduled by our dispatcher rather than by rethrowing into Hangfire's retry, whose re-enqueue
            // lands on Hangfire's "default" queue, which no server of ours listens to.
            LogTransientFailure(logger, jobId, job.Attempts, exception.GetType().Name);
            var now = timeProvider.GetUtcNow();
            await store.DeferAsync(jobId, now + TransientFaults.Backoff(job.Attempts), "a retry", TransientFaults.Describe(exception),
                countsAsAttempt: true, now, CancellationToken.None);
            await reporter.StatusAsync(job, JobStatus.Pending);
            return "deferred";
        }
        catch (Exception exception)
        {
            var (code, message) = TransientFaults.ToError(exception, deadline.IsCancellationRequested);
            LogFailed(logger, jobId, code, exception);
            // An agent's earlier steps are still charged when a later one fails (other kinds keep their rule: no row for a failure).
            await store.FailAsync(jobId, code, message, timeProvider.GetUtcNow(), CancellationToken.None,
                job.Kind == JobKinds.Agent ? context.PartialUsage : null);
            await reporter.FinalAsync(jobId);
            return "failed";
        }
    }

    private static TimeSpan SafeTimeout(Func<JobRecord, TimeSpan> timeoutOf, JobRecord job)
    {
        try
        {
            return timeoutOf(job);
        }
        catch (InvalidJobInputException)
        {
            // The body reads the input again and fails the job with invalid_request.
            return TimeSpan.FromMinutes(1);
        }
    }

    [LoggerMessage(3001, LogLevel.Information, "Job {JobId} is finished or was dispatched again; this delivery does nothing.")]
    private static partial void LogNotStarted(ILogger logger, Guid jobId);

    [LoggerMessage(3002, LogLevel.Warning, "Job {JobId} attempt {Attempt} hit a transient fault ({Fault}); it will be retried.")]
    private static partial void LogTransientFailure(ILogger logger, Guid jobId, int attempt, string fault);

    [LoggerMessage(3003, LogLevel.Warning, "Job {JobId} failed with {Code}.")]
    private static partial void LogFailed(ILogger logger, Guid jobId, string code, Exception exception);

    [LoggerMessage(3005, LogLevel.Information, "Job {JobId} was refused by a per-minute limit; it runs again after {Until}.")]
    private static partial void LogRateLimited(ILogger logger, Guid jobId, DateTimeOffset until);

    [LoggerMessage(3004, LogLevel.Information, "Job {JobId} was cancelled.")]
    private static partial void LogCancelled(ILogger logger, Guid jobId);
}
