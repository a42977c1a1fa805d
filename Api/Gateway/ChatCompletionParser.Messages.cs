using System.Text.Json;
using Microsoft.Extensions.AI;

namespace AspireLlm.Api.Gateway;

/// <summary>The <c>messages</c> array: roles, content parts, tool calls and tool results.</summary>
public static partial class ChatCompletionParser
{
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
}
