using System.Text.Json;
using Microsoft.Extensions.AI;

namespace AspireLlm.Api.Gateway;

/// <summary><c>tools</c>, <c>tool_choice</c> and <c>response_format</c>.</summary>
public static partial class ChatCompletionParser
{
    private static void ReadTools(JsonElement body, ChatOptions options)
    {
        if (body.TryGetProperty("tools", out var tools) && tools.ValueKind != JsonValueKind.Null)
        {
            if (tools.ValueKind != JsonValueKind.Array)
            {
                throw Bad("'tools' must be an array.", "tools");
            }

            options.Tools = [];
            var i = 0;
            foreach (var tool in tools.EnumerateArray())
            {
                var path = $"tools[{i++}]";
                if (RequiredString(tool, "type", $"{path}.type") != "function" || !tool.TryGetProperty("function", out var function))
                {
                    throw Bad("Only tools of type 'function' with a 'function' object are supported.", path);
                }

                var name = RequiredString(function, "name", $"{path}.function.name");
                var schema = function.TryGetProperty("parameters", out var parameters) && parameters.ValueKind == JsonValueKind.Object
                    ? parameters.Clone()
                    : JsonDocument.Parse("""{"type":"object","properties":{}}""").RootElement;
                options.Tools.Add(AIFunctionFactory.CreateDeclaration(name, OptionalString(function, "description", $"{path}.function.description"), schema));
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
                    var other => throw Bad($"Invalid tool_choice '{other}'.", "tool_choice"),
                },
                JsonValueKind.Object when choice.TryGetProperty("function", out var function) =>
                    ChatToolMode.RequireSpecific(RequiredString(function, "name", "tool_choice.function.name")),
                _ => throw Bad("Invalid tool_choice.", "tool_choice"),
            };
        }
    }

    private static ChatResponseFormat? ResponseFormat(JsonElement body)
    {
        if (!body.TryGetProperty("response_format", out var format) || format.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return RequiredString(format, "type", "response_format.type") switch
        {
            "text" => ChatResponseFormat.Text,
            "json_object" => ChatResponseFormat.Json,
            "json_schema" when format.TryGetProperty("json_schema", out var schema) && schema.ValueKind == JsonValueKind.Object =>
                ChatResponseFormat.ForJsonSchema(
                    schema.TryGetProperty("schema", out var s) && s.ValueKind == JsonValueKind.Object
                        ? s.Clone() : throw Bad("json_schema.schema must be an object.", "response_format.json_schema.schema"),
                    RequiredString(schema, "name", "response_format.json_schema.name"),
                    OptionalString(schema, "description", "response_format.json_schema.description")),
            var other => throw Bad($"Invalid response_format type '{other}'.", "response_format.type"),
        };
    }
}
