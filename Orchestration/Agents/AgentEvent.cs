using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using AspireLlm.Orchestration.Jobs;
using AspireLlm.Orchestration.Jobs.Events;

namespace AspireLlm.Orchestration.Agents;

/// <summary>
/// One event of an agent task, as the client receives it over the WebSocket or as SSE. It lives in
/// the task's job event log (sealed in Redis), so its <c>seq</c> is its id there: gap-free, the same
/// on every Api replica, added by the relay when the event goes out. The log of an agent task holds
/// only these events (no job status events), so every event of a task has the next <c>seq</c>.
/// </summary>
public sealed record AgentEvent(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("task_id")] string? TaskId,
    [property: JsonPropertyName("at")] DateTimeOffset At)
{
    public const string TaskStarted = "task_started";
    public const string Thought = "thought";
    public const string Action = "action";
    public const string ToolResult = "tool_result";
    public const string NeedInput = "need_input";
    public const string Complete = "complete";
    public const string Error = "error";
    public const string Pong = "pong";

    /// <summary>On <c>task_started</c>: the job id, for the task's REST face (<c>/v1/jobs/{id}</c>).</summary>
    [JsonPropertyName("job_id")] public Guid? JobId { get; init; }

    [JsonPropertyName("agent")] public string? Agent { get; init; }

    [JsonPropertyName("model")] public string? Model { get; init; }

    [JsonPropertyName("text")] public string? Text { get; init; }

    [JsonPropertyName("tool")] public string? Tool { get; init; }

    [JsonPropertyName("arguments")] public JsonElement? Arguments { get; init; }

    [JsonPropertyName("call_id")] public string? CallId { get; init; }

    [JsonPropertyName("result")] public string? Result { get; init; }

    [JsonPropertyName("is_error")] public bool? IsError { get; init; }

    [JsonPropertyName("request_id")] public string? RequestId { get; init; }

    [JsonPropertyName("prompt")] public string? Prompt { get; init; }

    [JsonPropertyName("output")] public string? Output { get; init; }

    [JsonPropertyName("usage")] public JsonElement? Usage { get; init; }

    [JsonPropertyName("cost")] public decimal? Cost { get; init; }

    [JsonPropertyName("code")] public string? Code { get; init; }

    [JsonPropertyName("message")] public string? Message { get; init; }

    public byte[] ToUtf8() => JsonSerializer.SerializeToUtf8Bytes(this, JobEventLog.SerializerOptions);

    public override string ToString() => Encoding.UTF8.GetString(ToUtf8());

    /// <summary>The id events of a task carry: the client's <c>task_id</c> (the job's idempotency key) or else the job id.</summary>
    public static string TaskIdOf(JobRecord job) => job.IdempotencyKey ?? job.Id.ToString();

    public static AgentEvent Failure(string? taskId, string code, string message, DateTimeOffset at) =>
        new(Error, taskId, at) { Code = code, Message = message };

    /// <summary>The final event of a finished task, from its stored state: <c>complete</c>, or <c>error</c> with the job's error.</summary>
    public static AgentEvent FinalOf(JobRecord job)
    {
        var at = job.CompletedAt ?? job.UpdatedAt;
        if (job.Status == JobStatus.Completed && job.Result is { } result)
        {
            return new AgentEvent(Complete, TaskIdOf(job), at)
            {
                Output = result.TryGetProperty("output", out var output) ? output.GetString() : null,
                Usage = result.TryGetProperty("usage", out var usage) ? usage.Clone() : job.Usage,
                Cost = result.TryGetProperty("cost", out var cost) && cost.ValueKind == JsonValueKind.Number ? cost.GetDecimal() : null,
            };
        }

        var code = job.Error is { } error && error.TryGetProperty("code", out var c) ? c.GetString() ?? "error" : job.Status == JobStatus.Completed ? "content_erased" : "error";
        var message = job.Error is { } e && e.TryGetProperty("message", out var m) ? m.GetString() ?? "" : $"The task is {job.Status}.";
        return Failure(TaskIdOf(job), code, message, at);
    }

    /// <summary>Whether a stored event ends its task (a <c>complete</c>, or an <c>error</c> of the task).</summary>
    public static bool IsTerminal(JsonElement json) =>
        json.TryGetProperty("type", out var type) && type.GetString() is Complete or Error && json.TryGetProperty("task_id", out _);

    /// <summary>The event as it goes out: the stored JSON with its <c>seq</c> first.</summary>
    public static string WithSeq(string json, long seq) =>
        json.Length > 2 && json[0] == '{' ? string.Concat("{\"seq\":", seq.ToString(System.Globalization.CultureInfo.InvariantCulture), ",", json.AsSpan(1)) : json;
}
