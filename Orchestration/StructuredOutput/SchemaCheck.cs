using System.Text.Json;
using Json.Schema;

namespace AspireLlm.Orchestration.StructuredOutput;

/// <summary>
/// Checks a caller's JSON Schema before anything uses it: it must be a valid 2020-12 schema that
/// builds, and refer to nothing outside itself. Our registries never fetch (JsonSchema.Net fetches
/// only through a delegate we do not set), but a remote <c>$ref</c> would then fail at evaluation,
/// after the model call was paid for; refusing it up front is the clear answer.
/// </summary>
public static class SchemaCheck
{
    private static readonly string[] ReferenceKeywords = ["$ref", "$dynamicRef", "$recursiveRef"];

    /// <summary>Why <paramref name="schema"/> cannot be used, or null when it can.</summary>
    public static string? Problem(JsonElement schema)
    {
        if (ExternalReference(schema) is { } reference)
        {
            return reference;
        }

        var metaCheck = MetaSchemas.Draft202012.Evaluate(schema, new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (!metaCheck.IsValid)
        {
            var first = (metaCheck.Details ?? [])
                .Where(detail => detail.Errors is { Count: > 0 })
                .Select(detail => $"{detail.InstanceLocation}: {detail.Errors!.First().Value}")
                .FirstOrDefault();
            return first ?? "it is not a valid JSON Schema.";
        }

        try
        {
            JsonSchema.Build(schema, new BuildOptions { SchemaRegistry = new SchemaRegistry() });
            return null;
        }
        catch (Exception exception) when (exception is JsonSchemaException or JsonException or ArgumentException or InvalidOperationException or FormatException)
        {
            return "it is not a valid JSON Schema.";
        }
    }

    /// <summary>A reference (or <c>$schema</c>/<c>$id</c>) that points outside the schema itself, described; null when there is none.</summary>
    public static string? ExternalReference(JsonElement schema)
    {
        var pending = new Stack<JsonElement>();
        pending.Push(schema);
        while (pending.Count > 0)
        {
            var element = pending.Pop();
            if (element.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in element.EnumerateArray())
                {
                    pending.Push(item);
                }

                continue;
            }

            if (element.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            foreach (var property in element.EnumerateObject())
            {
                if (property.Value.ValueKind == JsonValueKind.String && ReferenceKeywords.Contains(property.Name)
                    && !property.Value.GetString()!.StartsWith('#'))
                {
                    return $"'{property.Name}' may only refer within the schema (start with '#').";
                }

                pending.Push(property.Value);
            }
        }

        return null;
    }
}
