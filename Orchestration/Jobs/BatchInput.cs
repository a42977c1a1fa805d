using System.Text.Json;
using AspireLlm.Orchestration.ChatRequests;

namespace AspireLlm.Orchestration.Jobs;

/// <summary>The input of a batch job: chat requests, each read by the chat completion parser, run with bounded concurrency.</summary>
public sealed record BatchInput(IReadOnlyList<ChatCompletionRequest> Requests, int Concurrency)
{
    public const int MaxRequests = 1000;
    public const int MaxConcurrencyLimit = 32;
    public const int DefaultConcurrency = 4;

    private static readonly HashSet<string> Known = ["requests", "max_concurrency"];

    /// <summary>The batch, or its errors: the first of the batch itself, or the first of each request.</summary>
    public static (BatchInput? Input, IReadOnlyList<ChatRequestError> Errors) Parse(JsonElement input, string path)
    {
        foreach (var property in input.EnumerateObject())
        {
            if (!Known.Contains(property.Name))
            {
                return (null, [new($"Unrecognized argument supplied: {property.Name}", $"{path}.{property.Name}", "unknown_parameter")]);
            }
        }

        if (!input.TryGetProperty("requests", out var requests) || requests.ValueKind != JsonValueKind.Array
            || requests.GetArrayLength() is 0 or > MaxRequests)
        {
            return (null, [new($"Between 1 and {MaxRequests} requests are required.", $"{path}.requests")]);
        }

        var concurrency = DefaultConcurrency;
        if (input.TryGetProperty("max_concurrency", out var max) && max.ValueKind != JsonValueKind.Null)
        {
            if (max.ValueKind != JsonValueKind.Number || !max.TryGetInt32(out concurrency) || concurrency is < 1 or > MaxConcurrencyLimit)
            {
                return (null, [new($"max_concurrency must be an integer from 1 to {MaxConcurrencyLimit}.", $"{path}.max_concurrency")]);
            }
        }

        var parsed = new List<ChatCompletionRequest>(requests.GetArrayLength());
        var errors = new List<ChatRequestError>();
        var index = 0;
        foreach (var request in requests.EnumerateArray())
        {
            var (item, error) = ChatCompletionParser.Parse(request, $"{path}.requests[{index++}]");
            if (error is not null)
            {
                errors.Add(error);
            }
            else
            {
                parsed.Add(item!);
            }
        }

        return errors.Count > 0 ? (null, errors) : (new BatchInput(parsed, concurrency), []);
    }
}
