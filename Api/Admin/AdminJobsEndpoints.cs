using AspireLlm.Api.Audit;
using AspireLlm.Api.Errors;
using AspireLlm.Api.Jobs;
using AspireLlm.Orchestration.Jobs;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AspireLlm.Api.Admin;

/// <summary>Operators' actions on any tenant's jobs.</summary>
internal static class AdminJobsEndpoints
{
    /// <summary>Any tenant's job with its step log, for operators (the input stays out of it).</summary>
    public static async Task<Results<Ok<AdminJobDetail>, ProblemHttpResult>> GetAsync(string id, JobStore store, CancellationToken cancellationToken) =>
        Guid.TryParse(id, out var jobId) && await store.GetAsync(jobId, cancellationToken) is { } job
            ? TypedResults.Ok(AdminJobDetail.From(job))
            : Problems.NotFound($"No job '{id}' exists.");

    /// <summary>Cancels any tenant's job, with the same rules as the tenant's own cancel; a cancel that changed something is audited.</summary>
    public static async Task<Results<Ok<AdminJobDetail>, Accepted<AdminJobDetail>, ProblemHttpResult>> CancelAsync(
        string id, HttpContext context, JobStore store, JobCancellation cancellation, AuditLog audit, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var jobId) || await store.GetAsync(jobId, cancellationToken) is not { } job)
        {
            return Problems.NotFound($"No job '{id}' exists.");
        }

        var (outcome, current) = await cancellation.CancelAsync(job, cancellationToken);
        if (outcome != CancelOutcome.AlreadyFinished)
        {
            // The job store (shared with the Worker) committed the change on its own; the row follows it.
            await audit.AppendAsync(AuditActor.From(context), AuditActions.JobCancel, AuditActions.JobTarget(current.Id),
                new { tenant_id = current.TenantId, outcome = outcome == CancelOutcome.Cancelled ? "cancelled" : "requested" });
        }

        return outcome switch
        {
            CancelOutcome.Cancelled => TypedResults.Ok(AdminJobDetail.From(current)),
            CancelOutcome.Requested => TypedResults.Accepted($"/v1/admin/jobs/{current.Id}", AdminJobDetail.From(current)),
            _ => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The job has already finished",
                detail: $"Job {current.Id} is {current.Status}."),
        };
    }

    /// <summary>
    /// Runs a failed or cancelled job again as a new run (charged and notified on its own). Other
    /// states answer 409: a pending or running job is already on its way, a completed one is done.
    /// </summary>
    public static async Task<Results<Accepted<JobView>, ProblemHttpResult>> RetryAsync(
        string id, HttpContext context, JobStore store, JobNotifications notifications, AuditLog audit, TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var jobId) || await store.GetAsync(jobId, cancellationToken) is not { } existing)
        {
            return Problems.NotFound($"No job '{id}' exists.");
        }

        if (existing.Kind == JobKinds.Agent)
        {
            // A task is a conversation with a person, its events numbered once: a new one is started, not re-run.
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Agent tasks cannot be retried",
                detail: $"Job {jobId} is an agent task; start a new task instead.");
        }

        // The new run belongs to this request's trace (the retry is its cause), with the job id on the span.
        using var accept = Observability.ApiTelemetry.StartAccept(jobId, existing.Kind);
        var trace = System.Diagnostics.Activity.Current;
        var job = await store.RetryAsync(jobId, timeProvider.GetUtcNow(), cancellationToken, trace?.Id, trace?.TraceStateString);
        if (job is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The job cannot be retried",
                detail: $"Job {jobId} is {existing.Status}; only failed or cancelled jobs can be retried.");
        }

        await audit.AppendAsync(AuditActor.From(context), AuditActions.JobRetry, AuditActions.JobTarget(job.Id),
            new { tenant_id = job.TenantId, previous_status = existing.Status, run = job.Run });

        // The retried row's NOTIFY wakes the Workers' dispatchers, which queue it again.
        await notifications.StatusAsync(job.Id, JobStatus.Pending);
        return TypedResults.Accepted($"/v1/jobs/{job.Id}", JobView.From(job));
    }
}
