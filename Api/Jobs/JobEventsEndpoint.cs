using System.Globalization;
using System.Text.Json;
using AspireLlm.Api.ApiKeys;
using AspireLlm.Api.Errors;
using AspireLlm.Orchestration.Jobs;
using AspireLlm.Orchestration.Jobs.Events;
using Microsoft.AspNetCore.Http.HttpResults;
using StackExchange.Redis;

namespace AspireLlm.Api.Jobs;

/// <summary>
/// <c>GET /v1/jobs/{id}/events</c>: the job's events as Server-Sent Events. History comes from the
/// job's event list, live events from its pub/sub channel (subscribed before the history is read, and
/// deduplicated by id), so <c>Last-Event-ID</c> resumes on any replica without gaps or repeats. The
/// stream ends after the terminal status event; a client that connects after the job ended gets the
/// history and the final event.
/// </summary>
internal static class JobEventsEndpoint
{
    private static readonly TimeSpan StateCheckInterval = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(15);

    public static async Task<Results<EmptyHttpResult, ProblemHttpResult>> StreamAsync(
        string id, HttpContext context, JobStore store, JobEventLog events, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var caller = Caller.From(context.User);
        var job = Guid.TryParse(id, out var jobId) ? await store.GetForTenantAsync(jobId, caller.TenantId, cancellationToken) : null;
        if (job is null)
        {
            return Problems.NotFound($"No job '{id}' exists for this API key's tenant.");
        }

        var resumeFrom = context.Request.Headers["Last-Event-ID"].ToString() is { Length: > 0 } header ? header : context.Request.Query["last_event_id"].ToString();
        long lastSent = 0;
        if (resumeFrom.Length > 0 && (!long.TryParse(resumeFrom, NumberStyles.None, CultureInfo.InvariantCulture, out lastSent)))
        {
            return Problems.Validation(new() { ["Last-Event-ID"] = ["Last-Event-ID must be the id of an event of this stream."] });
        }

        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        await response.Body.FlushAsync(cancellationToken);

        var live = await events.SubscribeAsync(jobId);
        try
        {
            await RelayAsync(new EventWriter(response), jobId, lastSent, live, store, events, timeProvider, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away; nothing to clean up beyond the subscription.
        }
        finally
        {
            await live.UnsubscribeAsync();
        }

        return TypedResults.Empty;
    }

    private static async Task RelayAsync(
        EventWriter writer, Guid jobId, long lastSent, ChannelMessageQueue live, JobStore store, JobEventLog events,
        TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        foreach (var item in await events.ReadAfterAsync(jobId, lastSent))
        {
            if (await writer.WriteAsync(item, cancellationToken))
            {
                return;
            }

            lastSent = item.Id;
        }

        Task<ChannelMessage>? next = null;
        var lastWrite = timeProvider.GetUtcNow();
        while (true)
        {
            next ??= live.ReadAsync(cancellationToken).AsTask();
            var woke = await Task.WhenAny(next, Task.Delay(StateCheckInterval, timeProvider, cancellationToken));
            cancellationToken.ThrowIfCancellationRequested();
            if (woke == next)
            {
                var message = JobEventLog.ParseLive((await next).Message);
                next = null;
                if (message.Id <= lastSent)
                {
                    continue;
                }

                // A live event beyond the next id means some were missed: take them from the list, in order.
                var pending = message.Id == lastSent + 1 ? [message] : await events.ReadAfterAsync(jobId, lastSent);
                foreach (var item in pending.Where(item => item.Id > lastSent))
                {
                    if (await writer.WriteAsync(item, cancellationToken))
                    {
                        return;
                    }

                    lastSent = item.Id;
                }

                lastWrite = timeProvider.GetUtcNow();
                continue;
            }

            // No live event for a while: if the job ended (and its final event was lost), end the stream
            // from the stored state; otherwise keep the connection alive through proxies.
            var job = await store.GetAsync(jobId, cancellationToken);
            if (job is not null && JobStatus.IsFinal(job.Status))
            {
                foreach (var item in await events.ReadAfterAsync(jobId, lastSent))
                {
                    if (await writer.WriteAsync(item, cancellationToken))
                    {
                        return;
                    }

                    lastSent = item.Id;
                }

                var final = JobEvent.ForStatus(job.Status, job.CompletedAt ?? job.UpdatedAt, error: job.Error);
                await writer.WriteAsync(new SequencedJobEvent(lastSent + 1, JsonSerializer.Serialize(final, JobEventLog.SerializerOptions)), cancellationToken);
                return;
            }

            if (timeProvider.GetUtcNow() - lastWrite >= HeartbeatInterval)
            {
                await writer.HeartbeatAsync(cancellationToken);
                lastWrite = timeProvider.GetUtcNow();
            }
        }
    }

    private sealed class EventWriter(HttpResponse response)
    {
        /// <summary>Writes one event; true when it was the job's terminal status event.</summary>
        public async Task<bool> WriteAsync(SequencedJobEvent item, CancellationToken cancellationToken)
        {
            using var document = JsonDocument.Parse(item.Json);
            var type = document.RootElement.TryGetProperty("type", out var t) ? t.GetString() : "message";
            await response.WriteAsync($"id: {item.Id}\nevent: {type}\ndata: {item.Json}\n\n", cancellationToken);
            await response.Body.FlushAsync(cancellationToken);
            return type == JobEvent.StatusType
                && document.RootElement.TryGetProperty("status", out var status)
                && JobStatus.IsFinal(status.GetString() ?? "");
        }

        public async Task HeartbeatAsync(CancellationToken cancellationToken)
        {
            await response.WriteAsync(": ping\n\n", cancellationToken);
            await response.Body.FlushAsync(cancellationToken);
        }
    }
}
