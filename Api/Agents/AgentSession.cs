using System.Buffers;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using AspireLlm.Api.ApiKeys;
using AspireLlm.Api.Jobs;
using AspireLlm.Orchestration.Agents;
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

    private string ErrorFrame(string? taskId, string code, string message) =>
        JsonSerializer.Serialize(new AgentEvent(AgentEvent.Error, taskId, timeProvider.GetUtcNow()) { Code = code, Message = message }, JobEventLog.SerializerOptions);

    private sealed class SocketSink(AgentSession session) : IJobEventSink
    {
        public Task WriteAsync(SequencedJobEvent item, CancellationToken cancellationToken) =>
            session.SendAsync(AgentEvent.WithSeq(item.Json, item.Id), cancellationToken);

        public Task HeartbeatAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    [LoggerMessage(2703, LogLevel.Warning, "The events of agent task {JobId} could not be relayed to its session.")]
    private static partial void LogRelayFailed(ILogger logger, Guid jobId, Exception exception);
}
