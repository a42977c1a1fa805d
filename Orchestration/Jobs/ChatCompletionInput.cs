using System.Text.Json.Serialization;
using Microsoft.Extensions.AI;

namespace AspireLlm.Orchestration.Jobs;

/// <summary>The OpenAI-style input of a chat completion: a model alias, messages and generation parameters.</summary>
public sealed record ChatCompletionInput
{
    [JsonPropertyName("model")]
    public string? Model { get; init; }

    [JsonPropertyName("messages")]
    public IReadOnlyList<ChatMessageInput>? Messages { get; init; }

    [JsonPropertyName("temperature")]
    public float? Temperature { get; init; }

    [JsonPropertyName("top_p")]
    public float? TopP { get; init; }

    [JsonPropertyName("max_tokens")]
    public int? MaxTokens { get; init; }

    [JsonPropertyName("seed")]
    public long? Seed { get; init; }

    [JsonPropertyName("stop")]
    public IReadOnlyList<string>? Stop { get; init; }

    private static readonly HashSet<string> Roles = ["system", "developer", "user", "assistant"];

    /// <summary>Field errors keyed by their JSON path (e.g. <c>input.messages[0].role</c>).</summary>
    public Dictionary<string, string[]> Validate(string prefix, Func<string, bool> isKnownModel)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(Model))
        {
            errors[$"{prefix}.model"] = ["The model alias is required."];
        }
        else if (!isKnownModel(Model))
        {
            errors[$"{prefix}.model"] = [$"Unknown model alias '{Model}'."];
        }

        if (Messages is null || Messages.Count == 0)
        {
            errors[$"{prefix}.messages"] = ["At least one message is required."];
        }
        else
        {
            for (var i = 0; i < Messages.Count; i++)
            {
                var message = Messages[i];
                if (message is null)
                {
                    errors[$"{prefix}.messages[{i}]"] = ["The message must be an object."];
                    continue;
                }

                if (message.Role is null || !Roles.Contains(message.Role))
                {
                    errors[$"{prefix}.messages[{i}].role"] = [$"The role must be one of: {string.Join(", ", Roles)}."];
                }

                if (message.Content is null)
                {
                    errors[$"{prefix}.messages[{i}].content"] = ["The content is required."];
                }
            }
        }

        if (Temperature is < 0 or > 2)
        {
            errors[$"{prefix}.temperature"] = ["The temperature must be between 0 and 2."];
        }

        if (TopP is < 0 or > 1)
        {
            errors[$"{prefix}.top_p"] = ["top_p must be between 0 and 1."];
        }

        if (MaxTokens is < 1 or > 128_000)
        {
            errors[$"{prefix}.max_tokens"] = ["max_tokens must be between 1 and 128000."];
        }

        if (Stop is { Count: > 4 })
        {
            errors[$"{prefix}.stop"] = ["At most 4 stop sequences are allowed."];
        }

        return errors;
    }

    public List<ChatMessage> ToChatMessages() =>
        [.. Messages!.Select(m => new ChatMessage(new ChatRole(m.Role == "developer" ? "system" : m.Role!), m.Content))];

    public ChatOptions ToChatOptions() => new()
    {
        Temperature = Temperature,
        TopP = TopP,
        MaxOutputTokens = MaxTokens,
        Seed = Seed,
        StopSequences = Stop is null ? null : [.. Stop],
    };
}

public sealed record ChatMessageInput
{
    [JsonPropertyName("role")]
    public string? Role { get; init; }

    [JsonPropertyName("content")]
    public string? Content { get; init; }
}
