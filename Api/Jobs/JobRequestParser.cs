using System.Text.Json;
using AspireLlm.Orchestration.Jobs;
using AspireLlm.Orchestration.Routing;

namespace AspireLlm.Api.Jobs;

/// <summary>A validated <c>POST /v1/jobs</c> body.</summary>
public sealed record JobRequest(string Kind, JsonElement Input, ChatCompletionInput ChatInput);

/// <summary>
/// Turns the raw body into a <see cref="JobRequest"/> or field errors keyed by JSON path. Parsing is
/// done by hand from the document rather than by model binding so that every error names its field.
/// </summary>
public sealed class JobRequestParser(ModelCatalog models)
{
    private static readonly JsonSerializerOptions SerializerOptions = new(JsonSerializerDefaults.Web);

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
            errors["kind"] = ["The kind is required (one of: " + string.Join(", ", JobKinds.Queues.Keys) + ")."];
        }
        else if (!JobKinds.IsKnown(kind = kindElement.GetString()!))
        {
            errors["kind"] = [$"Unknown kind '{kind}' (one of: {string.Join(", ", JobKinds.Queues.Keys)})."];
        }

        if (!body.TryGetProperty("input", out var input) || input.ValueKind != JsonValueKind.Object)
        {
            errors["input"] = ["The input is required and must be an object."];
            return (null, errors);
        }

        ChatCompletionInput? chat;
        try
        {
            chat = input.Deserialize<ChatCompletionInput>(SerializerOptions);
        }
        catch (JsonException exception)
        {
            errors["input" + (exception.Path?.TrimStart('$') ?? "")] = ["The value has the wrong type."];
            return (null, errors);
        }

        foreach (var (field, messages) in chat!.Validate("input"))
        {
            errors[field] = messages;
        }

        if (chat.Model is { Length: > 0 } alias && !models.IsKnown(alias))
        {
            errors["input.model"] = [$"Unknown model alias '{alias}' (one of: {string.Join(", ", models.Aliases)})."];
        }

        return errors.Count > 0 ? (null, errors) : (new JobRequest(kind!, input.Clone(), chat), errors);
    }
}
