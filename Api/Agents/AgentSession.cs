using System.Buffers;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using AspireLlm.Api.ApiKeys;
using AspireLlm.Api.Jobs;
using AspireLlm.Api.Observability;
using AspireLlm.Orchestration.Agents;
using AspireLlm.Orchestration.ChatRequests;
using AspireLlm.Orchestration.Jobs;
using AspireLlm.Orchestration.Jobs.Events;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace AspireLlm.Api.Agents;

/// <summary>
/// One agent WebSocket session: reads the client's frames one at a time and relays the events of the
/// tasks it started or resumed. It only relays: tasks are jobs run by the Workers, their events come
/// from each task's event log (so a session on any replica can resume one), and a frame that is bad
/// in any way gets an <c>error</c> event while the session and its other tasks go on. An idle session
/// holds no receive buffer (it waits with a zero-byte read) and no subscription.
/// </summary>
internal sealed partial class AgentSession(
    WebSocket socket, ApiKeyRecord key, AgentTasks tasks, JobRequestParser parser, JobAcceptance acceptance, JobCancellation cancellation,
    JobStore store, JobEventLog events, AgentAttachments attachments, IOptions<AgentOptions> options, TimeProvider timeProvider,
    ILogger<AgentSession> logger)
{
    private static readonly TimeSpan StateCheckInterval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan RevokedCloseGrace = TimeSpan.FromSeconds(2);

    // Never disposed: a relay or the revocation may still be waiting on it as the session ends (it holds no handle).
    private readonly SemaphoreSlim _sendGate = new(1, 1);
    private readonly Dictionary<Guid, (CancellationTokenSource Stop, Task Relay)> _relays = [];

    public async Task RunAsync(CancellationToken revoked, CancellationToken aborted)
    {
        // Revocation is said on the socket, then the session closes (aborted if the client does not close too).
        await using var onRevoked = revoked.Register(static session => _ = ((AgentSession)session!).EndRevokedAsync(), this);
        try
        {
            await ReceiveLoopAsync(aborted);
        }
        catch (Exception exception) when (exception is OperationCanceledException or WebSocketException)
        {
            // The client went away (or stopped answering pings): its tasks' grace periods start.
        }
        finally
        {
            await StopRelaysAsync();
        }
    }

    private async Task EndRevokedAsync()
    {
        // One deadline for all of it: the error frame may queue behind a relay's send to a client that stopped reading.
        using var grace = new CancellationTokenSource(RevokedCloseGrace, timeProvider);
        try
        {
            await SendAsync(ErrorFrame(null, "key_revoked", "The API key of this session was revoked."), grace.Token);
            await CloseAsync(WebSocketCloseStatus.PolicyViolation, "key revoked");
            await Task.Delay(Timeout.InfiniteTimeSpan, grace.Token);
        }
        catch (Exception exception) when (exception is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The grace ran out, or the session ended meanwhile.
        }
        finally
        {
            // Ends the receive loop if the client has not completed the close handshake.
            socket.Abort();
        }
    }

    private async Task ReceiveLoopAsync(CancellationToken cancellationToken)
    {
        var limit = options.Value.MaxFrameBytes;
        while (socket.State == WebSocketState.Open)
        {
            // Wait for the next frame without holding a buffer: idle sessions cost no receive memory.
            var first = await socket.ReceiveAsync(Memory<byte>.Empty, cancellationToken);
            if (first.MessageType == WebSocketMessageType.Close)
            {
                await CloseAsync(WebSocketCloseStatus.NormalClosure, "bye");
                return;
            }

            if (first.EndOfMessage)
            {
                // An empty message.
                await (first.MessageType == WebSocketMessageType.Binary
                    ? SendAsync(ErrorFrame(null, "binary_frame", "Frames are JSON text; a binary frame was ignored."), cancellationToken)
                    : HandleFrameAsync(ReadOnlyMemory<byte>.Empty, cancellationToken));
                continue;
            }

            var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(limit + 1, 16 * 1024));
            try
            {
                var length = 0;
                ValueWebSocketReceiveResult result = default;
                do
                {
                    if (length == buffer.Length)
                    {
                        if (length > limit)
                        {
                            break;
                        }

                        var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, limit + 1));
                        buffer.AsSpan(0, length).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }

                    result = await socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken);
                    length += result.Count;
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await CloseAsync(WebSocketCloseStatus.NormalClosure, "bye");
                    return;
                }

                if (length > limit)
                {
                    await CloseAsync(WebSocketCloseStatus.MessageTooBig, $"frames are limited to {limit} bytes");
                    return;
                }

                if (first.MessageType == WebSocketMessageType.Binary)
                {
                    await SendAsync(ErrorFrame(null, "binary_frame", "Frames are JSON text; a binary frame was ignored."), cancellationToken);
                    continue;
                }

                await HandleFrameAsync(buffer.AsMemory(0, length), cancellationToken);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

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
            using var activity = type == "ping" ? null : ApiTelemetry.StartAgentFrame(type is "start_task" or "provide_input" or "cancel" or "resume" ? type : "invalid");
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
                        $"Unknown frame type '{Clip(type)}' (known: start_task, provide_input, cancel, resume, ping)."), cancellationToken),
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

    /// <summary>Relays the task's events after <paramref name="afterSeq"/> (replacing a relay of the same task).</summary>
    private async Task WatchAsync(JobRecord job, long afterSeq, CancellationToken cancellationToken)
    {
        await StopRelayAsync(job.Id);
        var live = await events.SubscribeAsync(job.Id);
        IReadOnlyList<SequencedJobEvent> history;
        try
        {
            history = await events.ReadAfterAsync(job.Id, afterSeq);
        }
        catch
        {
            await live.UnsubscribeAsync();
            throw;
        }

        var attached = !JobStatus.IsFinal(job.Status);
        if (attached)
        {
            await attachments.AttachAsync(job.Id, cancellationToken);
        }

        var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var relay = new JobEventRelay(new SocketSink(this), job.Id, afterSeq, store, events, timeProvider, StateCheckInterval, Timeout.InfiniteTimeSpan);
        _relays[job.Id] = (stop, RelayAsync(relay, job.Id, history, live, attached, stop.Token));
    }

    private async Task RelayAsync(JobEventRelay relay, Guid jobId, IReadOnlyList<SequencedJobEvent> history, ChannelMessageQueue live, bool attached,
        CancellationToken cancellationToken)
    {
        // The relay outlives the frame that started it: its reads are not that frame's.
        Activity.Current = null;
        try
        {
            await relay.RunAsync(history, live, cancellationToken);
        }
        catch (Exception exception) when (exception is OperationCanceledException or WebSocketException or ObjectDisposedException)
        {
            // The session ended or the task is watched anew.
        }
        catch (Exception exception) when (exception is RedisException or Npgsql.NpgsqlException or TimeoutException)
        {
            LogRelayFailed(logger, jobId, exception);
        }
        finally
        {
            await live.UnsubscribeAsync();
            if (attached)
            {
                await attachments.DetachAsync(jobId);
            }
        }
    }

    private async Task StopRelayAsync(Guid jobId)
    {
        if (_relays.Remove(jobId, out var running))
        {
            await running.Stop.CancelAsync();
            await running.Relay;
            running.Stop.Dispose();
        }
    }

    private async Task StopRelaysAsync()
    {
        foreach (var jobId in _relays.Keys.ToList())
        {
            await StopRelayAsync(jobId);
        }
    }

    private async Task SendAsync(string json, CancellationToken cancellationToken)
    {
        await _sendGate.WaitAsync(cancellationToken);
        try
        {
            if (socket.State == WebSocketState.Open)
            {
                await socket.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
            }
        }
        finally
        {
            _sendGate.Release();
        }
    }

    private async Task CloseAsync(WebSocketCloseStatus status, string reason)
    {
        try
        {
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await socket.CloseOutputAsync(status, reason, timeout.Token);
            }
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException)
        {
            // Closed from the other side meanwhile.
        }
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

    private string ErrorFrame(string? taskId, string code, string message) =>
        JsonSerializer.Serialize(new AgentEvent(AgentEvent.Error, taskId, timeProvider.GetUtcNow()) { Code = code, Message = message }, JobEventLog.SerializerOptions);

    private static string Clip(string value) => value.Length > 64 ? value[..64] + "…" : value;

    private sealed class SocketSink(AgentSession session) : IJobEventSink
    {
        public Task WriteAsync(SequencedJobEvent item, CancellationToken cancellationToken) =>
            session.SendAsync(AgentEvent.WithSeq(item.Json, item.Id), cancellationToken);

        public Task HeartbeatAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    [LoggerMessage(2702, LogLevel.Warning, "An agent session could not handle a {FrameType} frame.")]
    private static partial void LogFrameFailed(ILogger logger, string frameType, Exception exception);

    [LoggerMessage(2703, LogLevel.Warning, "The events of agent task {JobId} could not be relayed to its session.")]
    private static partial void LogRelayFailed(ILogger logger, Guid jobId, Exception exception);
}
