using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.AI;

namespace AspireLlm.Orchestration.Agents;

/// <summary>
/// Where an agent task stands, as stored (sealed) after every step: the conversation so far (tool
/// results included), the model calls made and what they cost, the question it waits on, and the
/// events of its last step with their numbers. A run that resumes from it first re-sends those events
/// (appending only the ones that never reached the log), so a crash between the checkpoint and the
/// events loses nothing and repeats nothing.
/// </summary>
public sealed record AgentCheckpoint
{
    [JsonPropertyName("step")] public int Step { get; init; }

    /// <summary>The number the task's next event gets.</summary>
    [JsonPropertyName("next_seq")] public long NextSeq { get; init; } = 1;

    [JsonPropertyName("model")] public string Model { get; init; } = "";

    /// <summary>The conversation, as Microsoft.Extensions.AI serializes it (function calls and results included).</summary>
    [JsonPropertyName("messages")] public JsonElement Messages { get; init; }

    [JsonPropertyName("input_tokens")] public long InputTokens { get; init; }

    [JsonPropertyName("output_tokens")] public long OutputTokens { get; init; }

    [JsonPropertyName("cost")] public decimal Cost { get; init; }

    [JsonPropertyName("pending")] public PendingQuestion? Pending { get; init; }

    /// <summary>The last step's events (number and JSON), re-sent by a run that resumes.</summary>
    [JsonPropertyName("outbox")] public IReadOnlyList<OutboxEvent> Outbox { get; init; } = [];

    public List<ChatMessage> ReadMessages() =>
        Messages.ValueKind == JsonValueKind.Array ? JsonSerializer.Deserialize<List<ChatMessage>>(Messages, AIJsonUtilities.DefaultOptions) ?? [] : [];

    public static JsonElement WriteMessages(IEnumerable<ChatMessage> messages) =>
        JsonSerializer.SerializeToElement(messages.ToList(), AIJsonUtilities.DefaultOptions);

    public byte[] ToUtf8() => JsonSerializer.SerializeToUtf8Bytes(this);

    public static AgentCheckpoint FromUtf8(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize<AgentCheckpoint>(json) ?? throw new JsonException("An empty agent checkpoint.");
}

/// <summary>The <c>ask_user</c> call a task waits on.</summary>
public sealed record PendingQuestion(
    [property: JsonPropertyName("request_id")] string RequestId,
    [property: JsonPropertyName("call_id")] string CallId,
    [property: JsonPropertyName("prompt")] string Prompt);

public sealed record OutboxEvent([property: JsonPropertyName("seq")] long Seq, [property: JsonPropertyName("json")] string Json);
