using System.Text.Json;
using AspireLlm.Orchestration.Jobs;
using AspireLlm.Orchestration.Jobs.Webhooks;
using AspireLlm.Orchestration.Routing;

namespace AspireLlm.Api.Jobs;

/// <summary>A validated <c>POST /v1/jobs</c> body.</summary>
public sealed record JobRequest(string Kind, JsonElement Input, string? WebhookUrl)
{
    /// <summary>
    /// The model aliases the job will call: its own, or each batch item's. Read through the same
    /// deserialisation the Worker uses (case-insensitive, last duplicate wins), so the two can never
    /// disagree about which model a job names.
    /// </summary>
    public IEnumerable<string> Models() => Kind switch
    {
        JobKinds.Batch => Input.Deserialize<BatchInput>(JobInputJson.Options)?.Requests?.Select(r => r.Model!).Where(m => m is not null) ?? [],
        _ => Input.Deserialize<ChatCompletionInput>(JobInputJson.Options)?.Model is { } model ? [model] : [],
    };
}

/// <summary>
/// Turns the raw body into a <see cref="JobRequest"/> or field errors keyed by JSON path. Parsing is
/// done by hand from the document rather than by model binding so that every error names its field.
/// </summary>
public sealed class JobRequestParser(ModelCatalog models, IConfiguration configuration)
{
    private static readonly string KnownKinds = string.Join(", ", JobKinds.Queues.Keys);

    private bool AllowPrivateWebhooks => configuration.GetValue("Webhooks:AllowPrivateNetworks", false);

    public (JobRequest? Request, Dictionary<string, string[]> Errors) Parse(JsonElement body)
    {
        var errors = new Dictionary<string, string[]>();
        if (body.ValueKind != JsonValueKind.Object)
        {
            errors["$"] = ["The body must be a JSON object."];
            return (null, errors);
        }

        string? kind = null;
        if (!body.TryGetProperty("kind", out var kindElement) || kindElement.ValueKind != JsonValueKind.String)
        {
            errors["kind"] = [$"The kind is required (one of: {KnownKinds})."];
        }
        else if (!JobKinds.IsKnown(kind = kindElement.GetString()!))
        {
            errors["kind"] = [$"Unknown kind '{kind}' (one of: {KnownKinds})."];
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

        foreach (var (field, messages) in ValidateInput(kind, input))
        {
            errors[field] = messages;
        }

        return errors.Count > 0 ? (null, errors) : (new JobRequest(kind!, input.Clone(), webhookUrl), errors);
    }

    private Dictionary<string, string[]> ValidateInput(string? kind, JsonElement input)
    {
        try
        {
            return kind switch
            {
                JobKinds.ChatCompletion => input.Deserialize<ChatCompletionInput>(JobInputJson.Options)!.Validate("input", models.IsKnown),
                JobKinds.Batch => input.Deserialize<BatchInput>(JobInputJson.Options)!.Validate("input", models.IsKnown),
                _ => [],
            };
        }
        catch (JsonException exception)
        {
            return new() { ["input" + (exception.Path?.TrimStart('$') ?? "")] = ["The value has the wrong type."] };
        }
    }
}
