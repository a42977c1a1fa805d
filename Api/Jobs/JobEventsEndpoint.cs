using System.Globalization;
using System.Text.Json;
using AspireLlm.Api.ApiKeys;
using AspireLlm.Api.Errors;
using AspireLlm.Orchestration.Jobs;
using AspireLlm.Orchestration.Jobs.Events;
using Microsoft.AspNetCore.Http.HttpResults;
using AspireLlm.Api.Streams;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace AspireLlm.Api.Jobs;

/// <summary>
/// <c>GET /v1/jobs/{id}/events</c>: the job's events as Server-Sent Events. History comes from the
/// job's event list, live events from its pub/sub channel (subscribed before the history is read, and
/// deduplicated by id), so <c>Last-Event-ID</c> resumes on any replica without gaps or repeats. The
/// stream ends after the terminal status event; a client that connects after the job ended gets the
/// history and the final event. When this replica shuts down (SIGTERM, after its drain delay) an open
/// stream ends cleanly with a <c>retry</c> hint, so the client reconnects with <c>Last-Event-ID</c> and
/// resumes on another replica: a job can outlive any one Api process, and waiting for it would hold the
/// shutdown for as long as the job runs.
/// </summary>
internal static class JobEventsEndpoint
{
    private static readonly TimeSpan StateCheckInterval = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(15);

    /// <summary>The reconnection delay sent when a stream ends because this replica is stopping.</summary>
    internal static readonly TimeSpan ReconnectAfter = TimeSpan.FromSeconds(1);

    public static async Task<Results<EmptyHttpResult, ProblemHttpResult>> StreamAsync(
        string id, HttpContext context, JobStore store, JobEventLog events, OpenStreams streams, IOptions<JobLimitsOptions> limits,
        ShutdownState shutdown, TimeProvider timeProvider, CancellationToken cancellationToken)
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

        await using var stream = await streams.OpenAsync(caller.KeyId, limits.Value.MaxEventStreamsPerKey);
        if (stream is null)
        {
            context.Response.Headers.RetryAfter = "5";
            return TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many open event streams",
                detail: $"This API key already has {limits.Value.MaxEventStreamsPerKey} event streams open; close one first.",
                extensions: new Dictionary<string, object?> { ["code"] = "too_many_streams" });
        }

        // Subscribe and read the history before the 200 goes out, so that a Redis outage is a clean 503
        // (through the exception handler) rather than a stream cut after its headers.
        var live = await events.SubscribeAsync(jobId);
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stream.Revoked, shutdown.Closing);
        SseWriter? sse = null;
        try
        {
            var history = await events.ReadAfterAsync(jobId, lastSent);
            sse = SseWriter.Start(context.Response, JsonSerializerOptions.Web);
            await sse.FlushAsync(cancellationToken);

            var relay = new JobEventRelay(new EventWriter(sse, job.Kind == JobKinds.Agent), jobId, lastSent, store, events, timeProvider,
                StateCheckInterval, HeartbeatInterval);
            await relay.RunAsync(history, live, ended.Token);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away; nothing to clean up beyond the subscription.
        }
        catch (OperationCanceledException) when (stream.Revoked.IsCancellationRequested)
        {
            // The key was revoked: say so, then end the stream.
            await new EventWriter(sse ?? SseWriter.Start(context.Response, JsonSerializerOptions.Web), agentTask: false)
                .ErrorAsync("key_revoked", "The API key of this stream was revoked.", cancellationToken);
        }
        catch (OperationCanceledException) when (shutdown.Closing.IsCancellationRequested)
        {
            // This replica is stopping: end the stream (not the job) and have the client come back elsewhere.
            await new EventWriter(sse ?? SseWriter.Start(context.Response, JsonSerializerOptions.Web), agentTask: false)
                .ReconnectAsync(ReconnectAfter, cancellationToken);
        }
        finally
        {
            await live.UnsubscribeAsync();
        }

        return TypedResults.Empty;
    }

    private sealed class EventWriter(SseWriter sse, bool agentTask) : IJobEventSink
    {
        /// <summary>Writes one event; an agent task's carries its <c>seq</c> (the SSE id) as the WebSocket's do.</summary>
        public async Task WriteAsync(SequencedJobEvent item, CancellationToken cancellationToken)
        {
            var json = agentTask ? Orchestration.Agents.AgentEvent.WithSeq(item.Json, item.Id) : item.Json;
            using var document = JsonDocument.Parse(json);
            var type = document.RootElement.TryGetProperty("type", out var t) ? t.GetString() ?? "message" : "message";
            sse.Event(item.Id, type, json);
            await sse.FlushAsync(cancellationToken);
        }

        /// <summary>
        /// Ends the stream without a final status: a <c>retry</c> field (the reconnection delay, in ms) and a
        /// comment; an EventSource reconnects by itself with the last id it saw.
        /// </summary>
        public async Task ReconnectAsync(TimeSpan after, CancellationToken cancellationToken)
        {
            sse.Retry(after, "server shutting down; reconnect with Last-Event-ID");
            await sse.FlushAsync(cancellationToken);
        }

        public async Task ErrorAsync(string code, string message, CancellationToken cancellationToken)
        {
            sse.Event("error", new { type = "error", code, message });
            await sse.FlushAsync(cancellationToken);
        }

        public async Task HeartbeatAsync(CancellationToken cancellationToken)
        {
            sse.Comment("ping");
            await sse.FlushAsync(cancellationToken);
        }
    }
}
