using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;
using AspireLlm.Orchestration.Hashing;
using AspireLlm.Orchestration.Pipeline;
using Microsoft.Extensions.AI;

namespace AspireLlm.Orchestration.Caching;

/// <summary>
/// The exact-cache key: SHA-256 over a canonical, versioned JSON form of the whole request, so that
/// JSON property order (in tool schemas, arguments, extra properties) never matters and any change
/// to a message or a generation parameter gives another key. The tenant is part of it, so tenants
/// never share entries. Bump <see cref="Version"/> whenever the form changes (2: long texts by their hash).
/// </summary>
public static class CacheKey
{
    public const int Version = 2;
    public const string Prefix = "aspirellm:cache:v2:";

    /// <summary>Texts this long are keyed by their SHA-256 (<see cref="TextHash"/>), not copied into the key's JSON.</summary>
    internal const int LongText = 4 * 1024;

    public static string Compute(string tenant, string alias, IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("v", Version);
            writer.WriteString("tenant", tenant);
            writer.WriteString("alias", alias);
            writer.WriteStartArray("messages");
            foreach (var message in messages)
            {
                WriteMessage(writer, message);
            }

            writer.WriteEndArray();
            if (options is not null)
            {
                WriteOptions(writer, options);
            }

            writer.WriteEndObject();
        }

        return Prefix + Convert.ToHexStringLower(SHA256.HashData(buffer.WrittenSpan));
    }

    private static void WriteMessage(Utf8JsonWriter writer, ChatMessage message)
    {
        writer.WriteStartObject();
        writer.WriteString("role", message.Role.Value);
        WriteIfSet(writer, "name", message.AuthorName);
        writer.WriteStartArray("contents");
        foreach (var content in message.Contents)
        {
            writer.WriteStartObject();
            switch (content)
            {
                case TextContent { Text.Length: >= LongText } text:
                    writer.WriteString("text_sha256", TextHash.Sha256Hex(text.Text));
                    break;
                case TextContent text:
                    writer.WriteString("text", text.Text);
                    break;
                case FunctionCallContent call:
                    writer.WriteString("call_id", call.CallId);
                    writer.WriteString("call", call.Name);
                    writer.WritePropertyName("arguments");
                    WriteCanonical(writer, call.Arguments);
                    break;
                case FunctionResultContent result:
                    writer.WriteString("result_of", result.CallId);
                    writer.WritePropertyName("result");
                    WriteCanonical(writer, result.Result);
                    break;
                case DataContent data:
                    writer.WriteString("media_type", data.MediaType);
                    writer.WriteString("data_sha256", Convert.ToHexStringLower(SHA256.HashData(data.Data.Span)));
                    break;
                case UriContent uri:
                    writer.WriteString("media_type", uri.MediaType);
                    writer.WriteString("uri", uri.Uri.ToString());
                    break;
                default:
                    // Content kinds we do not list still key by everything they serialise.
                    writer.WriteString("kind", content.GetType().FullName);
                    writer.WritePropertyName("value");
                    WriteCanonical(writer, content);
                    break;
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteOptions(Utf8JsonWriter writer, ChatOptions options)
    {
        writer.WriteStartObject("options");
        WriteIfSet(writer, "temperature", options.Temperature);
        WriteIfSet(writer, "top_p", options.TopP);
        WriteIfSet(writer, "top_k", options.TopK);
        WriteIfSet(writer, "max_output_tokens", options.MaxOutputTokens);
        WriteIfSet(writer, "frequency_penalty", options.FrequencyPenalty);
        WriteIfSet(writer, "presence_penalty", options.PresencePenalty);
        WriteIfSet(writer, "seed", options.Seed);
        WriteIfSet(writer, "instructions", options.Instructions);
        WriteIfSet(writer, "conversation_id", options.ConversationId);
        if (options.AllowMultipleToolCalls is { } multiple)
        {
            writer.WriteBoolean("allow_multiple_tool_calls", multiple);
        }

        if (options.StopSequences is { Count: > 0 } stops)
        {
            writer.WriteStartArray("stop");
            foreach (var stop in stops)
            {
                writer.WriteStringValue(stop);
            }

            writer.WriteEndArray();
        }

        switch (options.ResponseFormat)
        {
            case ChatResponseFormatJson json:
                writer.WriteStartObject("response_format");
                writer.WriteString("type", "json");
                WriteIfSet(writer, "name", json.SchemaName);
                WriteIfSet(writer, "description", json.SchemaDescription);
                if (json.Schema is { } schema)
                {
                    writer.WritePropertyName("schema");
                    CanonicalJson.Write(writer, schema);
                }

                writer.WriteEndObject();
                break;
            case ChatResponseFormatText:
                writer.WriteString("response_format", "text");
                break;
        }

        switch (options.ToolMode)
        {
            case RequiredChatToolMode { RequiredFunctionName: var name }:
                writer.WriteString("tool_mode", "required:" + name);
                break;
            case NoneChatToolMode:
                writer.WriteString("tool_mode", "none");
                break;
            case AutoChatToolMode:
                writer.WriteString("tool_mode", "auto");
                break;
        }

        if (options.Tools is { Count: > 0 } tools)
        {
            writer.WriteStartArray("tools");
            foreach (var tool in tools)
            {
                writer.WriteStartObject();
                writer.WriteString("name", tool.Name);
                writer.WriteString("description", tool.Description);
                if (tool is AIFunctionDeclaration function)
                {
                    writer.WritePropertyName("schema");
                    CanonicalJson.Write(writer, function.JsonSchema);
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        if (options.AdditionalProperties is { Count: > 0 } extra)
        {
            writer.WriteStartObject("extra");
            foreach (var (name, value) in extra.Where(pair => pair.Key != ModelCallContext.PropertyKey).OrderBy(pair => pair.Key, StringComparer.Ordinal))
            {
                writer.WritePropertyName(name);
                WriteCanonical(writer, value);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }

    private static void WriteCanonical(Utf8JsonWriter writer, object? value)
    {
        var element = value switch
        {
            JsonElement json => json,
            null => default,
            _ => JsonSerializer.SerializeToElement(value, AIJsonUtilities.DefaultOptions.GetTypeInfo(value.GetType())),
        };
        if (element.ValueKind == JsonValueKind.Undefined)
        {
            writer.WriteNullValue();
        }
        else
        {
            CanonicalJson.Write(writer, element);
        }
    }

    private static void WriteIfSet(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(name, value);
        }
    }

    private static void WriteIfSet(Utf8JsonWriter writer, string name, float? value)
    {
        if (value is { } number)
        {
            writer.WriteNumber(name, (decimal)number);
        }
    }

    private static void WriteIfSet(Utf8JsonWriter writer, string name, long? value)
    {
        if (value is { } number)
        {
            writer.WriteNumber(name, number);
        }
    }
}
