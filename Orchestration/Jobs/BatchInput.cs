using System.Text.Json.Serialization;

namespace AspireLlm.Orchestration.Jobs;

/// <summary>The input of a batch job: chat requests run with bounded concurrency.</summary>
public sealed record BatchInput
{
    public const int MaxRequests = 1000;
    public const int MaxConcurrencyLimit = 32;

    [JsonPropertyName("requests")]
    public IReadOnlyList<ChatCompletionInput>? Requests { get; init; }

    [JsonPropertyName("max_concurrency")]
    public int? MaxConcurrency { get; init; }

    public int Concurrency => MaxConcurrency ?? 4;

    /// <summary>Field errors keyed by their JSON path; each request is checked like a chat job's input.</summary>
    public Dictionary<string, string[]> Validate(string prefix, Func<string, bool> isKnownModel)
    {
        var errors = new Dictionary<string, string[]>();
        if (Requests is null || Requests.Count is 0 or > MaxRequests)
        {
            errors[$"{prefix}.requests"] = [$"Between 1 and {MaxRequests} requests are required."];
            return errors;
        }

        if (MaxConcurrency is < 1 or > MaxConcurrencyLimit)
        {
            errors[$"{prefix}.max_concurrency"] = [$"max_concurrency must be between 1 and {MaxConcurrencyLimit}."];
        }

        for (var i = 0; i < Requests.Count; i++)
        {
            var itemPrefix = $"{prefix}.requests[{i}]";
            if (Requests[i] is not { } request)
            {
                errors[itemPrefix] = ["The request must be an object."];
                continue;
            }

            foreach (var (field, messages) in request.Validate(itemPrefix, isKnownModel))
            {
                errors[field] = messages;
            }
        }

        return errors;
    }
}
