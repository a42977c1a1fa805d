using System.Text.Json;
using AspireLlm.Orchestration.ChatRequests;

namespace AspireLlm.Orchestration.Jobs;

/// <summary>A model alias a job names, and where: <c>input.model</c>, or <c>input.requests[3].model</c>.</summary>
public sealed record JobModel(string Path, string Alias);

/// <summary>
/// Reads a job's input by its kind, with the same rules on both sides: the Api refuses with 400 what
/// this refuses, and the Worker reads an accepted input with it again, so the two cannot disagree.
/// </summary>
public static class JobInputs
{
    /// <summary>The model aliases the input names, or its errors (parameter paths under <paramref name="path"/>).</summary>
    public static (IReadOnlyList<JobModel> Models, IReadOnlyList<ChatRequestError> Errors) Read(string kind, JsonElement input, string path)
    {
        switch (kind)
        {
            case JobKinds.ChatCompletion:
                var (request, error) = ChatCompletionParser.Parse(input, path);
                return error is not null ? ([], [error]) : ([new JobModel($"{path}.model", request!.Model)], []);
            case JobKinds.Batch:
                var (batch, errors) = BatchInput.Parse(input, path);
                return batch is null ? ([], errors) : ([.. batch.Requests.Select((item, index) => new JobModel($"{path}.requests[{index}].model", item.Model))], []);
            case JobKinds.Index:
                return ([], [new ChatRequestError("Index jobs are created by uploading to /v1/collections/{id}/documents (or /rebuild).", "kind")]);
            case JobKinds.Agent:
                // The agent's own model is the Api's to add (it knows the configured agents).
                var (agent, agentErrors) = Agents.AgentInput.Parse(input, path);
                return agent is null ? ([], agentErrors) : (agent.Model is { } model ? [new JobModel($"{path}.model", model)] : [], []);
            default:
                return ([], [new ChatRequestError("Unknown job kind.", "kind")]);
        }
    }

    /// <summary>A chat job's input, which the Api has already accepted.</summary>
    public static ChatCompletionRequest Chat(JsonElement input) =>
        ChatCompletionParser.Parse(input) is { Request: { } request } ? request : throw Invalid(JobKinds.ChatCompletion);

    /// <summary>A batch job's input, which the Api has already accepted.</summary>
    public static BatchInput Batch(JsonElement input) =>
        BatchInput.Parse(input, "input") is { Input: { } batch } ? batch : throw Invalid(JobKinds.Batch);

    /// <summary>An index job's input, written by the Api's collections endpoints.</summary>
    public static IndexInput Index(JsonElement input) =>
        input.ValueKind == JsonValueKind.Object && input.TryGetProperty("collection", out var collection) && collection.TryGetGuid(out var id)
            ? new IndexInput(id, input.TryGetProperty("document", out var document) ? document.GetString() : null)
            : throw Invalid(JobKinds.Index);

    /// <summary>An agent task's input, which the Api has already accepted.</summary>
    public static Agents.AgentInput Agent(JsonElement input) =>
        Agents.AgentInput.Parse(input, "input") is { Input: { } agent } ? agent : throw Invalid(JobKinds.Agent);

    private static InvalidJobInputException Invalid(string kind) =>
        new($"The {kind} job's input no longer passes validation (a setting or this version's rules changed since it was accepted).");
}

/// <summary>What an index job indexes: one document of a collection, or (no document) the whole vector index anew.</summary>
public sealed record IndexInput(Guid Collection, string? Document)
{
    public JsonElement ToJson() => JsonSerializer.SerializeToElement(Document is null
        ? new Dictionary<string, object> { ["collection"] = Collection, ["rebuild"] = true }
        : new Dictionary<string, object> { ["collection"] = Collection, ["document"] = Document });
}

/// <summary>A stored input the Worker cannot read: the job fails with <c>invalid_request</c>, never retried.</summary>
public sealed class InvalidJobInputException(string message) : Exception(message);
