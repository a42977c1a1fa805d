using System.Text.Json;
using AspireLlm.Orchestration.Agents;
using AspireLlm.Orchestration.Jobs;
using AspireLlm.Orchestration.Jobs.Events;
using StackExchange.Redis;

namespace AspireLlm.Api.Jobs;

/// <summary>Where a relay writes a job's events: an SSE response, or an agent WebSocket session.</summary>
internal interface IJobEventSink
{
    Task WriteAsync(SequencedJobEvent item, CancellationToken cancellationToken);

    /// <summary>Nothing was written for a while; keep the connection alive through proxies if the transport needs it.</summary>
    Task HeartbeatAsync(CancellationToken cancellationToken);
}

/// <summary>
/// Relays one job's events to a sink: the history after the last event the client has (read after
/// subscribing, so nothing falls between), then live events from the job's channel, deduplicated by id,
/// with missed ids taken from the list, so a resume on any replica has no gaps and no repeats. It
/// ends after the job's final event (a final status, or an agent task's <c>complete</c> or
/// <c>error</c>), and if that event was lost, from the job's stored state.
/// </summary>
internal sealed class JobEventRelay(
    IJobEventSink sink, Guid jobId, long lastSent, JobStore store, JobEventLog events, TimeProvider timeProvider,
    TimeSpan stateCheckInterval, TimeSpan heartbeatInterval)
{
    public long LastSent => lastSent;

    public async Task RunAsync(IReadOnlyList<SequencedJobEvent> history, ChannelMessageQueue live, CancellationToken cancellationToken)
    {
        if (await WriteAllAsync(history, cancellationToken))
        {
            return;
        }

        Task<ChannelMessage>? next = null;
        Task? tick = null;
        var lastWrite = timeProvider.GetUtcNow();
        while (true)
        {
            next ??= live.ReadAsync(cancellationToken).AsTask();
            tick ??= Task.Delay(stateCheckInterval, timeProvider, cancellationToken);
            var woke = await Task.WhenAny(next, tick);
            cancellationToken.ThrowIfCancellationRequested();
            if (woke == next)
            {
                var message = events.ParseLive(jobId, (await next).Message);
                next = null;
                if (message.Id <= lastSent)
                {
                    continue;
                }

                // A live event beyond the next id means some were missed: take them from the list, in order.
                var pending = message.Id == lastSent + 1 ? [message] : await events.ReadAfterAsync(jobId, lastSent);
                if (await WriteAllAsync(pending, cancellationToken))
                {
                    return;
                }

                lastWrite = timeProvider.GetUtcNow();
                continue;
            }

            tick = null;
            // No live event for a while: if the job ended (and its final event was lost), end from the
            // stored state; otherwise keep the connection alive.
            var job = await store.GetAsync(jobId, cancellationToken);
            if (job is not null && JobStatus.IsFinal(job.Status))
            {
                if (await WriteAllAsync(await events.ReadAfterAsync(jobId, lastSent), cancellationToken))
                {
                    return;
                }

                await sink.WriteAsync(FinalEvent(job, lastSent + 1), cancellationToken);
                return;
            }

            if (timeProvider.GetUtcNow() - lastWrite >= heartbeatInterval)
            {
                await sink.HeartbeatAsync(cancellationToken);
                lastWrite = timeProvider.GetUtcNow();
            }
        }
    }

    /// <summary>The job's final event as its stored state says (status, or an agent task's complete or error).</summary>
    public static SequencedJobEvent FinalEvent(JobRecord job, long id) => job.Kind == JobKinds.Agent
        ? new SequencedJobEvent(id, AgentEvent.FinalOf(job).ToString())
        : new SequencedJobEvent(id, JsonSerializer.Serialize(
            JobEvent.ForStatus(job.Status, job.CompletedAt ?? job.UpdatedAt, error: job.Error) with { Run = job.Run }, JobEventLog.SerializerOptions));

    /// <summary>Whether the stored event ends its job's stream.</summary>
    public static bool IsTerminal(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        return AgentEvent.IsTerminal(root)
            || (root.TryGetProperty("type", out var type) && type.GetString() == JobEvent.StatusType
                && root.TryGetProperty("status", out var status) && JobStatus.IsFinal(status.GetString() ?? ""));
    }

    /// <summary>
    /// Writes the events after the last one sent; true once the stream should end: a terminal event,
    /// and the job is still final (an operator's retry starts a new run on the same stream).
    /// </summary>
    private async Task<bool> WriteAllAsync(IEnumerable<SequencedJobEvent> items, CancellationToken cancellationToken)
    {
        var ended = false;
        foreach (var item in items.Where(item => item.Id > lastSent))
        {
            await sink.WriteAsync(item, cancellationToken);
            ended = IsTerminal(item.Json);
            lastSent = item.Id;
        }

        return ended && await store.GetAsync(jobId, cancellationToken) is { } job && JobStatus.IsFinal(job.Status);
    }
}
