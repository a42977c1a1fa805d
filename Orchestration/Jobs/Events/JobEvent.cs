using System.Text.Json;
using System.Text.Json.Serialization;

namespace AspireLlm.Orchestration.Jobs.Events;

/// <summary>
/// One entry of a job's event stream. <c>Type</c> is <c>status</c>, <c>progress</c>, <c>step</c> or
/// <c>token</c>. A <c>processing</c> status event carries the <c>Attempt</c> and the <c>Run</c> (bumped by
/// an operator's retry): when either changes, a client discards the tokens collected so far.
/// </summary>
public sealed record JobEvent(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("at")] DateTimeOffset At,
    [property: JsonPropertyName("status")] string? Status = null,
    [property: JsonPropertyName("progress")] int? Progress = null,
    [property: JsonPropertyName("step")] string? Step = null,
    [property: JsonPropertyName("text")] string? Text = null,
    [property: JsonPropertyName("attempt")] int? Attempt = null,
    [property: JsonPropertyName("error")] JsonElement? Error = null,
    [property: JsonPropertyName("run")] int? Run = null)
{
    public const string StatusType = "status";
    public const string ProgressType = "progress";
    public const string StepType = "step";
    public const string TokenType = "token";

    [JsonIgnore]
    public bool IsTerminal => Type == StatusType && Status is not null && JobStatus.IsFinal(Status);

    public static JobEvent ForStatus(string status, DateTimeOffset at, int? attempt = null, JsonElement? error = null) =>
        new(StatusType, at, Status: status, Attempt: attempt, Error: error);
}

/// <summary>An event with its position in the job's stream (1-based, the SSE <c>id</c>).</summary>
public sealed record SequencedJobEvent(long Id, string Json);
