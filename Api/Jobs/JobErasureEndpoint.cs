using AspireLlm.Api.ApiKeys;
using AspireLlm.Api.Errors;
using AspireLlm.Orchestration.Jobs;
using AspireLlm.Orchestration.Jobs.Events;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AspireLlm.Api.Jobs;

/// <summary>
/// <c>DELETE /v1/jobs/{id}</c>: erases a finished job's content, for its tenant only: input, result,
/// the error's message, batch items, the webhook body and the job's Redis events. What it cost stays:
/// the job's metadata (status, steps, usage, times) and its usage ledger row. A pending or running job
/// answers 409 (it still needs its input): cancel it first. Erasing again answers as the first time.
/// </summary>
internal static class JobErasureEndpoint
{
    public static async Task<Results<Ok<JobView>, ProblemHttpResult>> DeleteAsync(
        string id, HttpContext context, JobStore store, JobEventLog events, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var caller = Caller.From(context.User);
        if (!Guid.TryParse(id, out var jobId))
        {
            return Problems.NotFound($"No job '{id}' exists for this API key's tenant.");
        }

        var (outcome, job) = await store.EraseContentAsync(jobId, caller.TenantId, timeProvider.GetUtcNow(), cancellationToken);
        switch (outcome)
        {
            case EraseOutcome.NotFound:
                return Problems.NotFound($"No job '{id}' exists for this API key's tenant.");
            case EraseOutcome.NotFinished:
                return TypedResults.Problem(
                    statusCode: StatusCodes.Status409Conflict,
                    title: "The job has not finished",
                    detail: $"Job {jobId} is {job!.Status}; cancel it first (POST /v1/jobs/{jobId}/cancel), then delete it once it has ended.");
        }

        // After the database: a Redis failure here answers 503 and the client's retry erases the rest.
        await events.DeleteAsync(jobId);
        return TypedResults.Ok(JobView.From(job!));
    }
}
