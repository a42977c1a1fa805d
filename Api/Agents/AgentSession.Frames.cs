using System.Diagnostics;
using System.Text;
using System.Text.Json;
using AspireLlm.Api.Jobs;
using AspireLlm.Api.Observability;
using AspireLlm.Orchestration.Agents;
using AspireLlm.Orchestration.ChatRequests;
using AspireLlm.Orchestration.Jobs;
using StackExchange.Redis;

namespace AspireLlm.Api.Agents;

/// <summary>The agent protocol's client frames: each is read, checked and answered here; a bad one gets an <c>error</c> event.</summary>
internal sealed partial class AgentSession
{
    private static readonly string[] FrameTypes = ["start_task", "provide_input", "cancel", "resume", "ping"];

    private async Task HandleFrameAsync(ReadOnlyMemory<byte> utf8, CancellationToken cancellationToken)
    {
        JsonDocument document;
        try
        {
            document = StrictJson.Parse(utf8);
        }
        catch (Exception exception) when (exception is JsonException or ArgumentException or DecoderFallbackException)
        {
            await SendAsync(ErrorFrame(null, "invalid_json", "The frame is not valid JSON: " + exception.Message), cancellationToken);
            return;
        }

        using (document)
        {
            var frame = document.RootElement;
            var type = frame.ValueKind == JsonValueKind.Object && frame.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String
                ? t.GetString()
                : null;
            // A frame is a span of its own, so what it does (Redis, Postgres, a job's acceptance) is traced under
            // it; pings are not worth one.
            using var activity = type == "ping" ? null : ApiTelemetry.StartAgentFrame(FrameTypes.Contains(type) ? type! : "invalid");
            try
            {
                await (type switch
                {
                    "ping" => PongAsync(frame, cancellationToken),
                    "start_task" => StartAsync(frame, cancellationToken),
                    "provide_input" => ProvideInputAsync(frame, cancellationToken),
                    "cancel" => CancelAsync(frame, cancellationToken),
                    "resume" => ResumeAsync(frame, cancellationToken),
                    null => SendAsync(ErrorFrame(null, "invalid_frame", "A frame is a JSON object with a string 'type'."), cancellationToken),
                    _ => SendAsync(ErrorFrame(null, "unknown_type",
                        $"Unknown frame type '{Clip(type)}' (known: {string.Join(", ", FrameTypes)})."), cancellationToken),
                });
            }
            catch (Exception exception) when (exception is RedisException or Npgsql.NpgsqlException or TimeoutException)
            {
                // A dependency is down for this frame; the session stays, and the client may try again.
                activity?.SetStatus(ActivityStatusCode.Error, "unavailable");
                LogFrameFailed(logger, type ?? "?", exception);
                await SendAsync(ErrorFrame(TaskIdOf(document.RootElement), "unavailable", "The service could not handle this frame just now; try again."),
                    cancellationToken);
            }
        }
    }

    private Task PongAsync(JsonElement frame, CancellationToken cancellationToken) =>
        Unknown(frame, ["type"]) is { } error ? SendAsync(error, cancellationToken) : SendAsync("{\"type\":\"pong\"}", cancellationToken);

    private async Task StartAsync(JsonElement frame, CancellationToken cancellationToken)
    {
        var taskId = frame.TryGetProperty("task_id", out var id) ? (id.ValueKind == JsonValueKind.String ? id.GetString() : "") : null;
        if (taskId is not null && !IdempotencyKeys.IsValid(taskId))
        {
            await SendAsync(ErrorFrame(null, "invalid_frame", "'task_id' must be " + IdempotencyKeys.Rule), cancellationToken);
            return;
        }

        // The frame less its envelope is the task's input, read exactly as POST /v1/jobs reads an agent job's.
        var input = new System.Text.Json.Nodes.JsonObject();
        foreach (var property in frame.EnumerateObject().Where(property => property.Name is not ("type" or "task_id")))
        {
            input[property.Name] = System.Text.Json.Nodes.JsonNode.Parse(property.Value.GetRawText());
        }

        var body = JsonSerializer.SerializeToElement(new System.Text.Json.Nodes.JsonObject { ["kind"] = JobKinds.Agent, ["input"] = input });
        var (request, errors) = parser.Parse(body);
        if (request is null)
        {
            var message = string.Join(" ", errors.Select(error => $"{error.Key.Replace("input.", "", StringComparison.Ordinal)}: {string.Join(" ", error.Value)}"));
            await SendAsync(ErrorFrame(taskId, "invalid_request", message), cancellationToken);
            return;
        }

        var accepted = await acceptance.AcceptAsync(key, request, taskId, Orchestration.Hashing.CanonicalJson.Hash(body), cancellationToken);
        var refusal = accepted.Refusal switch
        {
            Refusal.ModelNotAllowed => "model_not_allowed",
            Refusal.TooManyPending => "too_many_pending_jobs",
            Refusal.TooManyTasks => "too_many_tasks",
            Refusal.IdempotencyKeyReused => "task_exists",
            _ => null,
        };
        if (refusal is not null)
        {
            await SendAsync(ErrorFrame(taskId, refusal, accepted.Detail ?? refusal), cancellationToken);
            return;
        }

        // A new task, or the same start sent again: either way the client gets the task's events from the first.
        await WatchAsync(accepted.Job!, 0, cancellationToken);
    }

    private async Task ProvideInputAsync(JsonElement frame, CancellationToken cancellationToken)
    {
        var (requestId, answer, errors) = AgentInputEndpoint.Read(frame, new HashSet<string> { "type", "task_id" });
        var taskId = TaskIdOf(frame);
        if (errors.Count > 0 || taskId is null)
        {
            await SendAsync(ErrorFrame(taskId, "invalid_frame", taskId is null ? "'task_id' is required." : string.Join(" ", errors.Values.SelectMany(e => e))),
                cancellationToken);
            return;
        }

        if (await tasks.FindAsync(key, taskId, cancellationToken) is not { } job)
        {
            await SendAsync(NotFound(taskId), cancellationToken);
        }
        else if (await tasks.ProvideInputAsync(job, requestId!, answer!, cancellationToken) == ProvideInputOutcome.NotPending)
        {
            await SendAsync(ErrorFrame(taskId, "not_pending",
                $"The task is not waiting for an answer to '{Clip(requestId!)}' (answered already, timed out, or the task ended)."), cancellationToken);
        }
    }

    private async Task CancelAsync(JsonElement frame, CancellationToken cancellationToken)
    {
        var taskId = TaskIdOf(frame);
        var error = Unknown(frame, ["type", "task_id"]);
        if (error is not null || taskId is null)
        {
            await SendAsync(error ?? ErrorFrame(null, "invalid_frame", "'task_id' is required."), cancellationToken);
            return;
        }

        if (await tasks.FindAsync(key, taskId, cancellationToken) is not { } job)
        {
            await SendAsync(NotFound(taskId), cancellationToken);
            return;
        }

        // The task's own last event says it: an error with code "cancelled" (or its end, had it already ended).
        if ((await cancellation.CancelAsync(job, cancellationToken)).Outcome == CancelOutcome.AlreadyFinished)
        {
            await SendAsync(ErrorFrame(taskId, "task_finished", $"The task has already ended ({job.Status})."), cancellationToken);
        }
    }

    private async Task ResumeAsync(JsonElement frame, CancellationToken cancellationToken)
    {
        var taskId = TaskIdOf(frame);
        long afterSeq = 0;
        var error = Unknown(frame, ["type", "task_id", "after_seq"]);
        if (error is not null || taskId is null
            || (frame.TryGetProperty("after_seq", out var after) && (after.ValueKind != JsonValueKind.Number || !after.TryGetInt64(out afterSeq) || afterSeq < 0)))
        {
            await SendAsync(error ?? ErrorFrame(taskId, "invalid_frame", "'task_id' is required and 'after_seq' must be a whole number from 0."), cancellationToken);
            return;
        }

        if (await tasks.FindAsync(key, taskId, cancellationToken) is not { } job)
        {
            await SendAsync(NotFound(taskId), cancellationToken);
            return;
        }

        await WatchAsync(job, afterSeq, cancellationToken);
    }

    private static string? TaskIdOf(JsonElement frame) =>
        frame.ValueKind == JsonValueKind.Object && frame.TryGetProperty("task_id", out var id) && id.ValueKind == JsonValueKind.String
            && id.GetString() is { Length: > 0 and <= 255 } value ? value : null;

    private string? Unknown(JsonElement frame, string[] known)
    {
        foreach (var property in frame.EnumerateObject())
        {
            if (!known.Contains(property.Name))
            {
                return ErrorFrame(TaskIdOf(frame), "invalid_frame", $"Unknown field '{Clip(property.Name)}' (known: {string.Join(", ", known)}).");
            }
        }

        return null;
    }

    private string NotFound(string taskId) =>
        ErrorFrame(taskId, "task_not_found", $"No agent task '{Clip(taskId)}' exists for this API key's tenant.");

    private static string Clip(string value) => value.Length > 64 ? value[..64] + "…" : value;

    [LoggerMessage(2702, LogLevel.Warning, "An agent session could not handle a {FrameType} frame.")]
    private static partial void LogFrameFailed(ILogger logger, string frameType, Exception exception);
}
