using System.Text.Json;
using AspireLlm.Orchestration.Jobs;
using AspireLlm.Orchestration.Jobs.Webhooks;
using AspireLlm.Orchestration.Routing;

namespace AspireLlm.Api.Jobs;

/// <summary>A validated <c>POST /v1/jobs</c> body, with the model aliases its input names (read as the Worker reads them).</summary>
public sealed record JobRequest(string Kind, JsonElement Input, string? WebhookUrl, IReadOnlyList<JobModel> Models);

/// <summary>
/// Turns the raw body into a <see cref="JobRequest"/> or field errors keyed by JSON path. The input is
/// held to exactly the rules of a chat completion (<see cref="JobInputs"/>); the envelope's own fields
/// are checked here, and an unknown one is refused, so a mistyped <c>webhook_url</c> is never silently ignored.
/// </summary>
public sealed class JobRequestParser(
    ModelCatalog models, IConfiguration configuration, Microsoft.Extensions.Options.IOptions<Orchestration.Agents.AgentOptions>? agents = null)
{
    private static readonly string KnownKinds = string.Join(", ", JobKinds.Queues.Keys);
    private static readonly HashSet<string> Known = ["kind", "input", "webhook_url"];

    private bool AllowPrivateWebhooks => configuration.GetValue("Webhooks:AllowPrivateNetworks", false);

    public (JobRequest? Request, Dictionary<string, string[]> Errors) Parse(JsonElement body)
    {
        var errors = new Dictionary<string, string[]>();
        if (body.ValueKind != JsonValueKind.Object)
        {
            errors["$"] = ["The body must be a JSON object."];
            return (null, errors);
        }

        foreach (var unknown in body.EnumerateObject().Where(property => !Known.Contains(property.Name)))
        {
            errors[unknown.Name] = [$"Unknown field '{unknown.Name}' (known: {string.Join(", ", Known)})."];
        }

        string? kind = null;
        if (!body.TryGetProperty("kind", out var kindElement) || kindElement.ValueKind != JsonValueKind.String)
        {
            errors["kind"] = [$"The kind is required (one of: {KnownKinds})."];
        }
        else if (!JobKinds.IsKnown(kind = kindElement.GetString()!))
        {
            errors["kind"] = [$"Unknown kind (one of: {KnownKinds})."];
        }

        string? webhookUrl = null;
        if (body.TryGetProperty("webhook_url", out var webhook) && webhook.ValueKind != JsonValueKind.Null)
        {
            webhookUrl = webhook.ValueKind == JsonValueKind.String ? webhook.GetString() : null;
            if (WebhookDestination.Check(webhookUrl ?? "", AllowPrivateWebhooks) is { } problem)
            {
                errors["webhook_url"] = [problem];
            }
        }

        if (!body.TryGetProperty("input", out var input) || input.ValueKind != JsonValueKind.Object)
        {
            errors["input"] = ["The input is required and must be an object."];
            return (null, errors);
        }

        IReadOnlyList<JobModel> named = [];
        if (kind is not null && JobKinds.IsKnown(kind))
        {
            (named, var inputErrors) = JobInputs.Read(kind, input, "input");
            foreach (var error in inputErrors)
            {
                errors[error.Param ?? "input"] = [error.Message];
            }

            if (kind == JobKinds.Agent && inputErrors.Count == 0)
            {
                named = [.. named, .. CheckAgent(input, "input", errors)];
            }

            foreach (var model in named.Where(model => !models.IsKnown(model.Alias)))
            {
                errors[model.Path] = ["Unknown model alias."];
            }
        }

        return errors.Count > 0 ? (null, errors) : (new JobRequest(kind!, input.Clone(), webhookUrl, named), errors);
    }

    /// <summary>
    /// An agent task's agent must be configured; the model it runs on (its own, unless the input names
    /// one) is returned so the key's allowed models are checked against it like any job's model.
    /// </summary>
    public IReadOnlyList<JobModel> CheckAgent(JsonElement input, string path, Dictionary<string, string[]> errors)
    {
        var agentInput = JobInputs.Agent(input);
        var configured = agents?.Value.Definitions ?? [];
        if (!configured.TryGetValue(agentInput.Agent, out var agent))
        {
            errors[$"{path}.agent"] = [$"Unknown agent '{agentInput.Agent}' (configured: {string.Join(", ", configured.Keys.Order(StringComparer.Ordinal))})."];
            return [];
        }

        return agentInput.Model is null ? [new JobModel($"{path}.agent", agent.Model)] : [];
    }
}
