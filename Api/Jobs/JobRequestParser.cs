using System.Text.Json;
using AspireLlm.Orchestration.Jobs;
using AspireLlm.Orchestration.Jobs.Webhooks;
using AspireLlm.Orchestration.Routing;

namespace AspireLlm.Api.Jobs;

/// <summary>A validated <c>POST /v1/jobs</c> body.</summary>
public sealed record JobRequest(string Kind, JsonElement Input, string? WebhookUrl)
{
    /// <summary>The model aliases the job will call: its own, or each batch item's.</summary>
    public IEnumerable<string> Models()
    {
        if (Input.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.String)
        {
            yield return model.GetString()!;
        }

        if (Input.TryGetProperty("requests", out var requests) && requests.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in requests.EnumerateArray())
            {
                if (item.TryGetProperty("model", out var itemModel) && itemModel.ValueKind == JsonValueKind.String)
                {
                    yield return itemModel.GetString()!;
                }
            }
        }
    }
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
