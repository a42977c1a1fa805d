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
        group.MapPost("/{id}/input", Agents.AgentInputEndpoint.ProvideAsync).WithName("ProvideJobInput");
        return routes;
    }

    internal static async Task<Results<Accepted<JobAccepted>, ProblemHttpResult>> CreateAsync(
        HttpContext context, JobRequestParser parser, JobAcceptance acceptance, CancellationToken cancellationToken)
    {
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

            var accepted = await acceptance.AcceptAsync(Caller.KeyOf(context), request, idempotencyKey.Length > 0 ? idempotencyKey : null,
                CanonicalJson.Hash(body.RootElement), cancellationToken);
            switch (accepted.Refusal)
            {
                case Refusal.ModelNotAllowed:
                    return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Model not allowed", detail: accepted.Detail);
                case Refusal.TooManyPending or Refusal.TooManyTasks:
                    context.Response.Headers.RetryAfter = "5";
                    return TypedResults.Problem(
                        statusCode: StatusCodes.Status429TooManyRequests,
                        title: accepted.Refusal == Refusal.TooManyTasks ? "Too many agent tasks" : "Too many pending jobs", detail: accepted.Detail,
                        extensions: new Dictionary<string, object?> { ["code"] = accepted.Refusal == Refusal.TooManyTasks ? "too_many_tasks" : "too_many_pending_jobs" });
                case Refusal.IdempotencyKeyReused:
                    return TypedResults.Problem(
                        statusCode: StatusCodes.Status422UnprocessableEntity,
                        title: "Idempotency key reused",
                        detail: "This Idempotency-Key was already used with a different request body.");
            }

            var stored = accepted.Job!;
            if (!accepted.Created)
            {
                context.Response.Headers["Idempotent-Replayed"] = "true";
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
