using System.Text.Json;
using System.Text.RegularExpressions;
using AspireLlm.Orchestration.StructuredOutput;
using Microsoft.Extensions.AI;

namespace AspireLlm.Orchestration.ChatRequests;

/// <summary><c>tools</c>, <c>tool_choice</c> and <c>response_format</c>.</summary>
public static partial class ChatCompletionParser
{
    // OpenAI's limits, so that what we accept a provider will too.
    private const int MaxTools = 128;
    private const int MaxIdLength = 256;
    private const int MaxNameLength = 256;
    private const int MaxDescriptionLength = 8192;

    private static readonly JsonElement EmptyParameters = JsonDocument.Parse("""{"type":"object","properties":{}}""").RootElement;

    [GeneratedRegex("^[a-zA-Z0-9_-]{1,64}$")]
    private static partial Regex FunctionNamePattern();

    private static string FunctionName(JsonElement function, string path, Reader at)
    {
        var name = at.RequiredString(function, "name", path);
        return FunctionNamePattern().IsMatch(name)
            ? name
            : throw at.Bad($"'{path}' must be 1 to 64 letters, digits, underscores or dashes.", path, "invalid_name");
    }

    private static void ReadTools(JsonElement body, ChatOptions options, Reader at)
    {
        if (body.TryGetProperty("tools", out var tools) && tools.ValueKind != JsonValueKind.Null)
        {
            if (tools.ValueKind != JsonValueKind.Array || tools.GetArrayLength() > MaxTools)
            {
                throw at.Bad($"'tools' must be an array of at most {MaxTools} tools.", "tools");
            }

            options.Tools = [];
            var i = 0;
            foreach (var tool in tools.EnumerateArray())
            {
                var path = $"tools[{i++}]";
                if (at.RequiredString(tool, "type", $"{path}.type") != "function"
                    || !tool.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object)
                {
                    throw at.Bad("Only tools of type 'function' with a 'function' object are supported.", path);
                }

                var name = FunctionName(function, $"{path}.function.name", at);
                options.Tools.Add(AIFunctionFactory.CreateDeclaration(
                    name,
                    at.OptionalString(function, "description", $"{path}.function.description", MaxDescriptionLength),
                    Parameters(function, $"{path}.function.parameters", at)));
                _ = at.Boolean(function, "strict", $"{path}.function.strict");
            }
        }

        if (body.TryGetProperty("tool_choice", out var choice) && choice.ValueKind != JsonValueKind.Null)
        {
            options.ToolMode = choice.ValueKind switch
            {
                JsonValueKind.String => choice.GetString() switch
                {
                    "none" => ChatToolMode.None,
                    "auto" => ChatToolMode.Auto,
                    "required" => ChatToolMode.RequireAny,
                    _ => throw at.Bad("Invalid tool_choice: 'none', 'auto', 'required' or a function.", "tool_choice"),
                },
                JsonValueKind.Object when choice.TryGetProperty("function", out var function) && function.ValueKind == JsonValueKind.Object =>
                    ChatToolMode.RequireSpecific(FunctionName(function, "tool_choice.function.name", at)),
                _ => throw at.Bad("Invalid tool_choice.", "tool_choice"),
            };
        }
    }

    /// <summary>A function's parameters: a JSON Schema object that refers to nothing outside itself.</summary>
    private static JsonElement Parameters(JsonElement function, string path, Reader at)
    {
        if (!function.TryGetProperty("parameters", out var parameters) || parameters.ValueKind == JsonValueKind.Null)
        {
            return EmptyParameters;
        }

        return parameters.ValueKind != JsonValueKind.Object ? throw at.Bad("'parameters' must be a JSON Schema object.", path)
            : SchemaCheck.ExternalReference(parameters) is { } reference ? throw at.Bad(reference, path, "invalid_schema")
            : parameters.Clone();
    }

    private static ChatResponseFormat? ResponseFormat(JsonElement body, Reader at)
    {
        if (!body.TryGetProperty("response_format", out var format) || format.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        switch (at.RequiredString(format, "type", "response_format.type"))
        {
            case "text":
                return ChatResponseFormat.Text;
            case "json_object":
                return ChatResponseFormat.Json;
            case "json_schema":
                var spec = format.TryGetProperty("json_schema", out var s) && s.ValueKind == JsonValueKind.Object
                    ? s : throw at.Bad("'json_schema' must be an object.", "response_format.json_schema");
                var schema = spec.TryGetProperty("schema", out var element) && element.ValueKind == JsonValueKind.Object
                    ? element : throw at.Bad("json_schema.schema must be an object.", "response_format.json_schema.schema");
                if (SchemaCheck.Problem(schema) is { } problem)
                {
                    throw at.Bad($"Invalid schema for response_format: {problem}", "response_format.json_schema.schema", "invalid_schema");
                }

                _ = at.Boolean(spec, "strict", "response_format.json_schema.strict");
                return ChatResponseFormat.ForJsonSchema(
                    schema.Clone(),
                    FunctionName(spec, "response_format.json_schema.name", at),
                    at.OptionalString(spec, "description", "response_format.json_schema.description", MaxDescriptionLength));
            default:
                throw at.Bad("Invalid response_format type: 'text', 'json_object' or 'json_schema'.", "response_format.type");
        }
    }
}
