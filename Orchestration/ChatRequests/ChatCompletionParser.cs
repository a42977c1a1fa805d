using System.Text.Json;
using Microsoft.Extensions.AI;

namespace AspireLlm.Orchestration.ChatRequests;

/// <summary>
/// Reads an OpenAI chat completion request by hand, field by field, so that every mistake gets
/// OpenAI's error with the offending parameter named, and unknown parameters are refused as OpenAI
/// refuses them rather than silently ignored. The one rule for a chat request: the gateway, chat jobs
/// and batch items are all read here, so a job is held to exactly what a chat completion is.
/// </summary>
public static partial class ChatCompletionParser
{
    public const int MaxOutputTokens = 1_000_000;

    private static readonly HashSet<string> Known =
    [
        "model", "messages", "temperature", "top_p", "n", "stream", "stream_options", "stop", "max_tokens",
        "max_completion_tokens", "presence_penalty", "frequency_penalty", "seed", "user", "tools", "tool_choice",
        "response_format", "logit_bias", "parallel_tool_calls", "logprobs", "metadata", "store",
        // Ours, not OpenAI's: grounding in a collection (see RetrievalRequest).
        "retrieval",
    ];

    private static readonly HashSet<string> KnownRetrieval = ["collection", "top_k", "mode"];

    /// <summary>Parses <paramref name="body"/>; parameter names in errors are prefixed with <paramref name="path"/> (e.g. <c>input</c>).</summary>
    public static (ChatCompletionRequest? Request, ChatRequestError? Error) Parse(JsonElement body, string? path = null)
    {
        try
        {
            return (ReadRequest(body, new Reader(path)), null);
        }
        catch (RequestException exception)
        {
            return (null, exception.Error);
        }
    }

    private static ChatCompletionRequest ReadRequest(JsonElement body, Reader at)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw at.Bad("The request body must be a JSON object.", null);
        }

        foreach (var property in body.EnumerateObject())
        {
            if (!Known.Contains(property.Name))
            {
                throw at.Bad($"Unrecognized request argument supplied: {property.Name}", property.Name, "unknown_parameter");
            }
        }

        var model = at.RequiredString(body, "model", maxLength: 256);
        var options = new ChatOptions
        {
            ModelId = model,
            Temperature = at.Number(body, "temperature", 0, 2),
            TopP = at.Number(body, "top_p", 0, 1),
            PresencePenalty = at.Number(body, "presence_penalty", -2, 2),
            FrequencyPenalty = at.Number(body, "frequency_penalty", -2, 2),
            Seed = at.Integer(body, "seed", long.MinValue, long.MaxValue),
            MaxOutputTokens = (int?)(at.Integer(body, "max_completion_tokens", 1, MaxOutputTokens) ?? at.Integer(body, "max_tokens", 1, MaxOutputTokens)),
            StopSequences = Stop(body, at),
            AllowMultipleToolCalls = at.Boolean(body, "parallel_tool_calls"),
        };

        if (at.Integer(body, "n", 1, 128) is > 1)
        {
            throw at.Bad("Only n = 1 is supported.", "n");
        }

        if (at.Boolean(body, "logprobs") == true)
        {
            throw at.Bad("logprobs are not supported by this gateway.", "logprobs");
        }

        _ = at.Boolean(body, "store");
        Metadata(body, at);
        ReadTools(body, options, at);
        options.ResponseFormat = ResponseFormat(body, at);
        if (LogitBias(body, at) is { } bias)
        {
            (options.AdditionalProperties ??= [])["logit_bias"] = bias;
        }

        var stream = at.Boolean(body, "stream") ?? false;
        var includeUsage = false;
        if (body.TryGetProperty("stream_options", out var streamOptions) && streamOptions.ValueKind != JsonValueKind.Null)
        {
            if (!stream)
            {
                throw at.Bad("stream_options is only allowed when stream is true.", "stream_options");
            }

            includeUsage = streamOptions.ValueKind == JsonValueKind.Object
                ? at.Boolean(streamOptions, "include_usage", "stream_options.include_usage") == true
                : throw at.Bad("stream_options must be an object.", "stream_options");
        }

        var user = at.OptionalString(body, "user", maxLength: 256);
        return new ChatCompletionRequest(model, Messages(body, at), options, stream, includeUsage, user, Retrieval(body, at));
    }

    private static RetrievalRequest? Retrieval(JsonElement body, Reader at)
    {
        if (!body.TryGetProperty("retrieval", out var retrieval) || retrieval.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (retrieval.ValueKind != JsonValueKind.Object)
        {
            throw at.Bad("'retrieval' must be an object with 'collection' and optionally 'top_k' and 'mode'.", "retrieval");
        }

        foreach (var property in retrieval.EnumerateObject())
        {
            if (!KnownRetrieval.Contains(property.Name))
            {
                throw at.Bad($"Unrecognized argument supplied: retrieval.{property.Name}", $"retrieval.{property.Name}", "unknown_parameter");
            }
        }

        var collection = at.RequiredString(retrieval, "collection", "retrieval.collection", maxLength: 64);
        var topK = retrieval.TryGetProperty("top_k", out var k) && k.ValueKind != JsonValueKind.Null
            ? k.ValueKind == JsonValueKind.Number && k.TryGetInt32(out var value) && value is >= 1 and <= 20
                ? value
                : throw at.Bad("'retrieval.top_k' must be an integer from 1 to 20.", "retrieval.top_k", "invalid_value")
            : 5;
        var mode = at.OptionalString(retrieval, "mode", "retrieval.mode", maxLength: 16) ?? "hybrid";
        return mode is "hybrid" or "vector" or "lexical"
            ? new RetrievalRequest(collection, topK, mode)
            : throw at.Bad("'retrieval.mode' must be 'hybrid', 'vector' or 'lexical'.", "retrieval.mode", "invalid_value");
    }

    private static List<string>? Stop(JsonElement body, Reader at)
    {
        if (!body.TryGetProperty("stop", out var stop) || stop.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        List<string> stops = stop.ValueKind switch
        {
            JsonValueKind.String => [stop.GetString()!],
            JsonValueKind.Array when stop.EnumerateArray().All(s => s.ValueKind == JsonValueKind.String) => [.. stop.EnumerateArray().Select(s => s.GetString()!)],
            _ => throw at.Bad("'stop' must be a string or an array of strings.", "stop"),
        };
        return stops.Count <= 4 ? stops : throw at.Bad("'stop' may hold at most 4 sequences.", "stop");
    }

    /// <summary>OpenAI's rules: at most 16 pairs, keys up to 64 characters, string values up to 512.</summary>
    private static void Metadata(JsonElement body, Reader at)
    {
        if (!body.TryGetProperty("metadata", out var metadata) || metadata.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        if (metadata.ValueKind != JsonValueKind.Object
            || metadata.EnumerateObject().Count() > 16
            || metadata.EnumerateObject().Any(pair => pair.Name.Length > 64 || pair.Value.ValueKind != JsonValueKind.String || pair.Value.GetString()!.Length > 512))
        {
            throw at.Bad("'metadata' must be an object of at most 16 string values (keys up to 64 characters, values up to 512).", "metadata");
        }
    }

    /// <summary>OpenAI's rules: token ids (as strings) to biases from -100 to 100, at most 300 of them.</summary>
    private static JsonElement? LogitBias(JsonElement body, Reader at)
    {
        if (!body.TryGetProperty("logit_bias", out var bias) || bias.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        var valid = bias.ValueKind == JsonValueKind.Object
            && bias.EnumerateObject().Count() <= 300
            && bias.EnumerateObject().All(pair =>
                int.TryParse(pair.Name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _)
                && pair.Value.ValueKind == JsonValueKind.Number && pair.Value.TryGetDouble(out var value) && value is >= -100 and <= 100);
        return valid ? bias.Clone() : throw at.Bad("'logit_bias' must map up to 300 token ids to numbers from -100 to 100.", "logit_bias");
    }
}
