using System.Text.Json;
using AspireLlm.Api.ApiKeys;
using AspireLlm.Api.Errors;
using AspireLlm.Orchestration.Hashing;
using AspireLlm.Orchestration.Jobs;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace AspireLlm.Api.Jobs;

public static class JobsEndpoints
{
    public static IEndpointRouteBuilder MapJobsEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/jobs").WithTags("Jobs").RequireAuthorization();
        group.MapPost("/", CreateAsync).WithName("CreateJob");
        group.MapGet("/{id}", GetAsync).WithName("GetJob");
        group.MapGet("/{id}/events", JobEventsEndpoint.StreamAsync).WithName("StreamJobEvents");
        group.MapPost("/{id}/cancel", CancelAsync).WithName("CancelJob");
        group.MapDelete("/{id}", JobErasureEndpoint.DeleteAsync).WithName("DeleteJob");
        return routes;
    }

    internal static async Task<Results<Accepted<JobAccepted>, ProblemHttpResult>> CreateAsync(
        HttpContext context, JobRequestParser parser, JobStore store, JobNotifications notifications,
        IOptions<JobLimitsOptions> jobLimits, TimeProvider timeProvider, Observability.ApiTelemetry telemetry, CancellationToken cancellationToken)
    {
        var caller = Caller.From(context.User);
        var idempotencyKey = context.Request.Headers["Idempotency-Key"].ToString();
        if (idempotencyKey.Length > 0 && !IdempotencyKeys.IsValid(idempotencyKey))
        {
            return Problems.Validation(new() { ["Idempotency-Key"] = [IdempotencyKeys.Rule] });
        }

        var (body, bodyError) = await RequestBody.ReadJsonAsync(context, cancellationToken);
        if (bodyError is not null)
        {
            return bodyError;
        }

        using (body)
        {
            var (request, errors) = parser.Parse(body!.RootElement);
            if (request is null)
            {
                return Problems.Validation(errors);
            }

            var limits = Caller.KeyOf(context).Limits;
            if (request.Models.Select(model => model.Alias).FirstOrDefault(alias => !limits.Allows(alias)) is { } refused)
            {
                return TypedResults.Problem(
                    statusCode: StatusCodes.Status403Forbidden, title: "Model not allowed", detail: $"This API key may not use the model '{refused}'.");
            }

            var jobId = Guid.CreateVersion7();
            // The row carries this span's context: the Worker's dispatch and run continue this trace.
            using var accept = Observability.ApiTelemetry.StartAccept(jobId, request.Kind);
            var trace = System.Diagnostics.Activity.Current;
            // The stream's first event goes out before the row commits: the row's NOTIFY can start the
            // job at once, and its "processing" must not come before "pending". (If the insert turns out
            // to be an idempotent replay, the event belongs to an id nobody can read.)
            await notifications.StatusAsync(jobId, JobStatus.Pending);
            var job = new NewJob(
                jobId, caller.TenantId, caller.KeyId, request.Kind, request.Input,
                idempotencyKey.Length > 0 ? idempotencyKey : null,
                CanonicalJson.Hash(body.RootElement), timeProvider.GetUtcNow(), request.WebhookUrl,
                trace?.Id, trace?.TraceStateString);

            var (stored, created) = await store.CreateAsync(job, jobLimits.Value.MaxPendingPerKey, cancellationToken);
            if (stored is null)
            {
                context.Response.Headers.RetryAfter = "5";
                return TypedResults.Problem(
                    statusCode: StatusCodes.Status429TooManyRequests, title: "Too many pending jobs",
                    detail: $"This API key already has {jobLimits.Value.MaxPendingPerKey} jobs waiting to start; submit more as they start.",
                    extensions: new Dictionary<string, object?> { ["code"] = "too_many_pending_jobs" });
            }

            if (!created && !IdempotencyKeys.SameRequest(stored.RequestHash, job.RequestHash))
            {
                return TypedResults.Problem(
                    statusCode: StatusCodes.Status422UnprocessableEntity,
                    title: "Idempotency key reused",
                    detail: "This Idempotency-Key was already used with a different request body.");
            }

            if (!created)
            {
                context.Response.Headers["Idempotent-Replayed"] = "true";
            }
            else
            {
                telemetry.JobAccepted(stored.Kind);
            }

            context.Response.Headers.RetryAfter = "5";
            return TypedResults.Accepted($"/v1/jobs/{stored.Id}",
                new JobAccepted(stored.Id, "job", stored.Kind, JobStatus.Pending, stored.CreatedAt));
        }
    }

    /// <summary>
    /// Cancels a job: a pending job is cancelled at once and never starts; a running job's worker is
    /// told (Redis message, and its one-second database poll) and ends it as cancelled; a finished job
    /// answers 409.
    /// </summary>
    internal static async Task<Results<Ok<JobView>, Accepted<JobView>, ProblemHttpResult>> CancelAsync(
        string id, HttpContext context, JobStore store, JobCancellation cancellation, CancellationToken cancellationToken)
    {
        var caller = Caller.From(context.User);
        var job = Guid.TryParse(id, out var jobId) ? await store.GetForTenantAsync(jobId, caller.TenantId, cancellationToken) : null;
        if (job is null)
        {
            return Problems.NotFound($"No job '{id}' exists for this API key's tenant.");
        }

        var (outcome, current) = await cancellation.CancelAsync(job, cancellationToken);
        return outcome switch
        {
            CancelOutcome.Cancelled => TypedResults.Ok(JobView.From(current)),
            CancelOutcome.Requested => TypedResults.Accepted($"/v1/jobs/{current.Id}", JobView.From(current)),
            _ => TypedResults.Problem(
                statusCode: StatusCodes.Status409Conflict,
                title: "The job has already finished",
                detail: $"Job {current.Id} is {current.Status}; only pending or processing jobs can be cancelled."),
        };
    }

    internal static async Task<Results<Ok<JobView>, ProblemHttpResult>> GetAsync(
        string id, HttpContext context, JobStore store, CancellationToken cancellationToken)
    {
        var caller = Caller.From(context.User);
        var job = Guid.TryParse(id, out var jobId)
            ? await store.GetForTenantAsync(jobId, caller.TenantId, cancellationToken)
            : null;
        if (job is null)
        {
            return Problems.NotFound($"No job '{id}' exists for this API key's tenant.");
        }

        var retryAfter = job.Status switch
        {
            JobStatus.Pending => "5",
            JobStatus.Processing => "2",
            _ => null,
        };
        if (retryAfter is not null)
        {
            context.Response.Headers.RetryAfter = retryAfter;
        }

        return TypedResults.Ok(JobView.From(job));
    }
}
