using System.Text.Json;
using Microsoft.Extensions.AI;

namespace AspireLlm.Api.Gateway;

/// <summary>
/// Reads an OpenAI chat completion request by hand, field by field, so that every mistake gets
/// OpenAI's error with the offending parameter named, and unknown parameters are refused as
/// OpenAI refuses them rather than silently ignored.
/// </summary>
public static class ChatCompletionParser
{
    public const int MaxOutputTokens = 1_000_000;

    private static readonly HashSet<string> Known =
    [
        "model", "messages", "temperature", "top_p", "n", "stream", "stream_options", "stop", "max_tokens",
        "max_completion_tokens", "presence_penalty", "frequency_penalty", "seed", "user", "tools", "tool_choice",
        "response_format", "logit_bias", "parallel_tool_calls", "logprobs", "metadata", "store",
    ];

    private static readonly HashSet<string> Roles = ["system", "developer", "user", "assistant", "tool"];

    public static (ChatCompletionRequest? Request, OpenAiError? Error) Parse(JsonElement body)
    {
        try
        {
            return (Read(body), null);
        }
        catch (RequestException exception)
        {
            return (null, exception.Error);
        }
    }

    private static ChatCompletionRequest Read(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw Bad("The request body must be a JSON object.", null);
        }

        foreach (var property in body.EnumerateObject())
        {
            if (!Known.Contains(property.Name))
            {
                throw Bad($"Unrecognized request argument supplied: {property.Name}", property.Name, "unknown_parameter");
            }
        }

        var model = RequiredString(body, "model");
        var options = new ChatOptions
        {
            ModelId = model,
            Temperature = Number(body, "temperature", 0, 2),
            TopP = Number(body, "top_p", 0, 1),
            PresencePenalty = Number(body, "presence_penalty", -2, 2),
            FrequencyPenalty = Number(body, "frequency_penalty", -2, 2),
            Seed = Integer(body, "seed", long.MinValue, long.MaxValue),
            MaxOutputTokens = (int?)(Integer(body, "max_completion_tokens", 1, MaxOutputTokens) ?? Integer(body, "max_tokens", 1, MaxOutputTokens)),
            StopSequences = Stop(body),
            AllowMultipleToolCalls = Boolean(body, "parallel_tool_calls"),
        };

        if (Integer(body, "n", 1, 128) is > 1)
        {
            throw Bad("Only n = 1 is supported.", "n");
        }

        if (Boolean(body, "logprobs") == true)
        {
            throw Bad("logprobs are not supported by this gateway.", "logprobs");
        }

        ReadTools(body, options);
        options.ResponseFormat = ResponseFormat(body);
        if (body.TryGetProperty("logit_bias", out var bias) && bias.ValueKind != JsonValueKind.Null)
        {
            (options.AdditionalProperties ??= [])["logit_bias"] = bias.ValueKind == JsonValueKind.Object
                ? bias.Clone()
                : throw Bad("logit_bias must be an object of token ids to numbers.", "logit_bias");
        }

        var stream = Boolean(body, "stream") ?? false;
        var includeUsage = false;
        if (body.TryGetProperty("stream_options", out var streamOptions) && streamOptions.ValueKind != JsonValueKind.Null)
        {
            if (!stream)
            {
                throw Bad("stream_options is only allowed when stream is true.", "stream_options");
            }

            includeUsage = streamOptions.ValueKind == JsonValueKind.Object && Boolean(streamOptions, "include_usage", "stream_options.include_usage") == true;
        }

        var user = OptionalString(body, "user");
        return new ChatCompletionRequest(model, Messages(body), options, stream, includeUsage, user);
    }

    private static List<ChatMessage> Messages(JsonElement body)
    {
        if (!body.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array)
        {
            throw Bad("'messages' is a required property and must be an array.", "messages");
        }

        if (messages.GetArrayLength() == 0)
        {
            throw Bad("'messages' must contain at least one message.", "messages", "empty_array");
        }

        var list = new List<ChatMessage>();
        var index = 0;
        foreach (var element in messages.EnumerateArray())
        {
            list.Add(Message(element, $"messages[{index++}]"));
        }

        return list;
    }

    private static ChatMessage Message(JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw Bad("Each message must be an object.", path);
        }

        var role = RequiredString(element, "role", $"{path}.role");
        if (!Roles.Contains(role))
        {
            throw Bad($"Invalid role '{role}': one of {string.Join(", ", Roles)}.", $"{path}.role");
        }

        var contents = new List<AIContent>();
        if (element.TryGetProperty("content", out var content))
        {
            contents.AddRange(Content(content, $"{path}.content"));
        }

        if (role == "assistant" && element.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
        {
            var i = 0;
            foreach (var call in calls.EnumerateArray())
            {
                var callPath = $"{path}.tool_calls[{i++}]";
                var function = call.TryGetProperty("function", out var f) && f.ValueKind == JsonValueKind.Object
                    ? f : throw Bad("A tool call needs a 'function' object.", callPath);
                var arguments = OptionalString(function, "arguments", $"{callPath}.function.arguments") ?? "{}";
                contents.Add(new FunctionCallContent(
                    RequiredString(call, "id", $"{callPath}.id"), RequiredString(function, "name", $"{callPath}.function.name"),
                    ParseArguments(arguments, $"{callPath}.function.arguments")));
            }
        }

        if (role == "tool")
        {
            var callId = RequiredString(element, "tool_call_id", $"{path}.tool_call_id");
            var text = string.Concat(contents.OfType<TextContent>().Select(t => t.Text));
            contents = [new FunctionResultContent(callId, text)];
        }

        if (contents.Count == 0)
        {
            throw Bad("A message needs content (or, for an assistant, tool calls).", $"{path}.content");
        }

        return new ChatMessage(new ChatRole(role == "developer" ? "system" : role), contents)
        {
            AuthorName = OptionalString(element, "name", $"{path}.name"),
        };
    }

    private static IEnumerable<AIContent> Content(JsonElement content, string path)
    {
        switch (content.ValueKind)
        {
            case JsonValueKind.Null:
                yield break;
            case JsonValueKind.String:
                yield return new TextContent(content.GetString());
                yield break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var part in content.EnumerateArray())
                {
                    var partPath = $"{path}[{i++}]";
                    var type = RequiredString(part, "type", $"{partPath}.type");
                    yield return type switch
                    {
                        "text" => new TextContent(RequiredString(part, "text", $"{partPath}.text")),
                        "image_url" when part.TryGetProperty("image_url", out var image) =>
                            new UriContent(Url(RequiredString(image, "url", $"{partPath}.image_url.url"), $"{partPath}.image_url.url"), "image/*"),
                        _ => throw Bad($"Unsupported content part type '{type}'.", $"{partPath}.type"),
                    };
                }

                yield break;
            default:
                throw Bad("Content must be a string or an array of content parts.", path);
        }
    }

    private static Uri Url(string value, string path) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme is "https" or "http" or "data")
            ? uri : throw Bad("Expected an http(s) or data URL.", path);

    private static Dictionary<string, object?> ParseArguments(string json, string path)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.ValueKind == JsonValueKind.Object
                ? document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone())
                : throw Bad("Tool call arguments must be a JSON object.", path);
        }
        catch (JsonException)
        {
            throw Bad("Tool call arguments must be valid JSON.", path);
        }
    }

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

    private static List<string>? Stop(JsonElement body)
    {
        if (!body.TryGetProperty("stop", out var stop) || stop.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        List<string> stops = stop.ValueKind switch
        {
            JsonValueKind.String => [stop.GetString()!],
            JsonValueKind.Array when stop.EnumerateArray().All(s => s.ValueKind == JsonValueKind.String) => [.. stop.EnumerateArray().Select(s => s.GetString()!)],
            _ => throw Bad("'stop' must be a string or an array of strings.", "stop"),
        };
        return stops.Count <= 4 ? stops : throw Bad("'stop' may hold at most 4 sequences.", "stop");
    }

    private static string RequiredString(JsonElement element, string name, string? path = null) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            && value.GetString() is { Length: > 0 } text
            ? text
            : throw Bad($"'{path ?? name}' is required and must be a non-empty string.", path ?? name);

    private static string? OptionalString(JsonElement element, string name, string? path = null) =>
        !element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind == JsonValueKind.String ? value.GetString()
        : throw Bad($"'{path ?? name}' must be a string.", path ?? name);

    private static float? Number(JsonElement element, string name, double min, double max)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number && value.GetDouble() is var number && number >= min && number <= max
            ? (float)number
            : throw Bad($"'{name}' must be a number from {min} to {max}.", name, "invalid_value");
    }

    private static long? Integer(JsonElement element, string name, long min, long max)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) && number >= min && number <= max
            ? number
            : throw Bad($"'{name}' must be an integer from {min} to {max}.", name, "invalid_value");
    }

    private static bool? Boolean(JsonElement element, string name, string? path = null) =>
        !element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean()
        : throw Bad($"'{path ?? name}' must be a boolean.", path ?? name);

    private static RequestException Bad(string message, string? param, string? code = null) => new(OpenAiError.Invalid(message, param, code));

    private sealed class RequestException(OpenAiError error) : Exception(error.Message)
    {
        public OpenAiError Error { get; } = error;
    }
}
