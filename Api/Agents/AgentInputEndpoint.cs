using System.Text.Json;
using AspireLlm.Api.ApiKeys;
using AspireLlm.Api.Errors;
using AspireLlm.Api.Jobs;
using AspireLlm.Orchestration.Agents;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AspireLlm.Api.Agents;

/// <summary>
/// <c>POST /v1/jobs/{id}/input</c>: answers the question an agent task asked (<c>need_input</c>), the
/// REST face of the WebSocket's <c>provide_input</c>. Body <c>{"request_id": "…", "input": "…"}</c>.
/// </summary>
internal static class AgentInputEndpoint
{
    private static readonly HashSet<string> Known = ["request_id", "input"];

    public static async Task<Results<Accepted<JobView>, ProblemHttpResult>> ProvideAsync(
        string id, HttpContext context, AgentTasks tasks, Orchestration.Jobs.JobStore store, CancellationToken cancellationToken)
    {
        var (body, bodyError) = await RequestBody.ReadJsonAsync(context, cancellationToken);
        if (bodyError is not null)
        {
            return bodyError;
        }

        using (body)
        {
            var (requestId, answer, errors) = Read(body!.RootElement);
            if (errors.Count > 0)
            {
                return Problems.Validation(errors);
            }

            var job = await tasks.FindAsync(Caller.KeyOf(context), id, cancellationToken);
            if (job is null)
            {
                return Problems.NotFound($"No agent task '{id}' exists for this API key's tenant.");
            }

            if (await tasks.ProvideInputAsync(job, requestId!, answer!, cancellationToken) == ProvideInputOutcome.NotPending)
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "No such question is pending",
                    detail: $"Task {id} is not waiting for an answer to '{requestId}' (answered already, timed out, or the task ended).",
                    extensions: new Dictionary<string, object?> { ["code"] = "not_pending" });
            }

            return TypedResults.Accepted($"/v1/jobs/{job.Id}", JobView.From((await store.GetAsync(job.Id, cancellationToken))!));
        }
    }

    /// <summary>The request id and the answer, or field errors (unknown fields refused).</summary>
    public static (string? RequestId, string? Answer, Dictionary<string, string[]> Errors) Read(JsonElement body, ISet<string>? alsoKnown = null)
    {
        var errors = new Dictionary<string, string[]>();
        if (body.ValueKind != JsonValueKind.Object)
        {
            errors["$"] = ["The body must be a JSON object."];
            return (null, null, errors);
        }

        foreach (var unknown in body.EnumerateObject().Where(property => !Known.Contains(property.Name) && alsoKnown?.Contains(property.Name) != true))
        {
            errors[unknown.Name] = [$"Unknown field '{unknown.Name}' (known: {string.Join(", ", Known.Concat(alsoKnown ?? new HashSet<string>()))})."];
        }

        var requestId = body.TryGetProperty("request_id", out var request) && request.ValueKind == JsonValueKind.String ? request.GetString() : null;
        if (requestId is not { Length: > 0 and <= 64 })
        {
            errors["request_id"] = ["'request_id' is required: the id of the need_input event being answered."];
        }

        var answer = body.TryGetProperty("input", out var input) && input.ValueKind == JsonValueKind.String ? input.GetString() : null;
        if (answer is not { Length: > 0 and <= AgentInput.MaxInputCharacters })
        {
            errors["input"] = [$"'input' is required: the answer, as text of 1 to {AgentInput.MaxInputCharacters} characters."];
        }

        return (requestId, answer, errors);
    }
}
