using System.Text.Json;
using Microsoft.Extensions.AI;

namespace AspireLlm.Orchestration.ChatRequests;

/// <summary>The <c>messages</c> array: roles, content parts, tool calls and tool results.</summary>
public static partial class ChatCompletionParser
{
    private static readonly HashSet<string> Roles = ["system", "developer", "user", "assistant", "tool"];

    private static List<ChatMessage> Messages(JsonElement body, Reader at)
    {
        if (!body.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array)
        {
            throw at.Bad("'messages' is a required property and must be an array.", "messages");
        }

        if (messages.GetArrayLength() == 0)
        {
            throw at.Bad("'messages' must contain at least one message.", "messages", "empty_array");
        }

        var list = new List<ChatMessage>();
        var index = 0;
        foreach (var element in messages.EnumerateArray())
        {
            list.Add(Message(element, $"messages[{index++}]", at));
        }

        return list;
    }

    private static ChatMessage Message(JsonElement element, string path, Reader at)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw at.Bad("Each message must be an object.", path);
        }

        var role = at.RequiredString(element, "role", $"{path}.role");
        if (!Roles.Contains(role))
        {
            throw at.Bad($"Invalid role: one of {string.Join(", ", Roles)}.", $"{path}.role");
        }

        var contents = new List<AIContent>();
        if (element.TryGetProperty("content", out var content))
        {
            contents.AddRange(Content(content, $"{path}.content", at));
        }

        if (role == "assistant" && element.TryGetProperty("tool_calls", out var calls) && calls.ValueKind != JsonValueKind.Null)
        {
            contents.AddRange(ToolCalls(calls, $"{path}.tool_calls", at));
        }

        if (role == "tool")
        {
            var callId = at.RequiredString(element, "tool_call_id", $"{path}.tool_call_id", maxLength: MaxIdLength);
            var text = string.Concat(contents.OfType<TextContent>().Select(t => t.Text));
            contents = [new FunctionResultContent(callId, text)];
        }

        if (contents.Count == 0)
        {
            throw at.Bad("A message needs content (or, for an assistant, tool calls).", $"{path}.content");
        }

        return new ChatMessage(new ChatRole(role == "developer" ? "system" : role), contents)
        {
            AuthorName = at.OptionalString(element, "name", $"{path}.name", maxLength: MaxNameLength),
        };
    }

    private static IEnumerable<AIContent> ToolCalls(JsonElement calls, string path, Reader at)
    {
        if (calls.ValueKind != JsonValueKind.Array)
        {
            throw at.Bad("'tool_calls' must be an array.", path);
        }

        var i = 0;
        foreach (var call in calls.EnumerateArray())
        {
            var callPath = $"{path}[{i++}]";
            var function = call.ValueKind == JsonValueKind.Object && call.TryGetProperty("function", out var f) && f.ValueKind == JsonValueKind.Object
                ? f : throw at.Bad("A tool call needs a 'function' object.", callPath);
            var arguments = at.OptionalString(function, "arguments", $"{callPath}.function.arguments") ?? "{}";
            yield return new FunctionCallContent(
                at.RequiredString(call, "id", $"{callPath}.id", maxLength: MaxIdLength),
                FunctionName(function, $"{callPath}.function.name", at),
                ParseArguments(arguments, $"{callPath}.function.arguments", at));
        }
    }

    private static IEnumerable<AIContent> Content(JsonElement content, string path, Reader at)
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
                    var type = at.RequiredString(part, "type", $"{partPath}.type");
                    yield return type switch
                    {
                        "text" => new TextContent(at.RequiredString(part, "text", $"{partPath}.text")),
                        "image_url" when part.TryGetProperty("image_url", out var image) && image.ValueKind == JsonValueKind.Object =>
                            new UriContent(Url(at.RequiredString(image, "url", $"{partPath}.image_url.url"), $"{partPath}.image_url.url", at), "image/*"),
                        "image_url" => throw at.Bad("An image_url part needs an 'image_url' object with a 'url'.", $"{partPath}.image_url"),
                        _ => throw at.Bad("Unsupported content part type: 'text' or 'image_url'.", $"{partPath}.type"),
                    };
                }

                yield break;
            default:
                throw at.Bad("Content must be a string or an array of content parts.", path);
        }
    }

    private static Uri Url(string value, string path, Reader at) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme is "https" or "http" or "data")
            ? uri : throw at.Bad("Expected an http(s) or data URL.", path);

    private static Dictionary<string, object?> ParseArguments(string json, string path, Reader at)
    {
        try
        {
            using var document = StrictJson.Parse(json);
            return document.RootElement.ValueKind == JsonValueKind.Object
                ? document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone())
                : throw at.Bad("Tool call arguments must be a JSON object.", path);
        }
        catch (JsonException)
        {
            throw at.Bad("Tool call arguments must be valid JSON.", path);
        }
    }
}
