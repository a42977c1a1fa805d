using System.Text.Json;
using Microsoft.Extensions.AI;

namespace AspireLlm.Api.Gateway;

/// <summary>
/// Reads an OpenAI chat completion request by hand, field by field, so that every mistake gets
/// OpenAI's error with the offending parameter named, and unknown parameters are refused as
/// OpenAI refuses them rather than silently ignored.
/// </summary>
public static partial class ChatCompletionParser
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
