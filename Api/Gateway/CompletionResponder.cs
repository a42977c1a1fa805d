using System.Globalization;
using System.Text;
using System.Text.Json;
using AspireLlm.Api.Streams;
using AspireLlm.Orchestration.Admission;
using AspireLlm.Orchestration.ChatRequests;
using Microsoft.Extensions.AI;

namespace AspireLlm.Api.Gateway;

/// <summary>One completion's answer on the wire: a JSON body, or an SSE stream in OpenAI's chunk format.</summary>
internal sealed class CompletionResponder(HttpContext http, ChatCompletionRequest request, AdmissionSubject caller, TimeProvider timeProvider)
{
    private readonly string _id = "chatcmpl-" + Guid.NewGuid().ToString("N");
    private readonly long _created = timeProvider.GetUtcNow().ToUnixTimeSeconds();
    private SseWriter? _sse;

    /// <summary>What retrieval put in the prompt, for the answer's citations; null for an ungrounded request.</summary>
    public Orchestration.Retrieval.GroundingResult? Grounding { get; init; }

    /// <summary>
    /// What was answered, for Idempotency-Key replays; null when nothing was (the client left). The body
    /// is made only when asked for: most requests carry no key, and a stream has no body of its own.
    /// </summary>
    public sealed class Answer(int status, Func<string> body)
    {
        public int Status { get; } = status;

        public string Body => body();
    }

    public async Task<Answer?> RespondAsync(IChatClient client, CancellationToken cancellationToken)
    {
        ChatResponse response;
        try
        {
            response = await client.GetResponseAsync(request.Messages, request.Options, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        catch (Exception exception) when (GatewayErrors.From(exception) is { } mapped)
        {
            return await FailAsync(mapped.Error, mapped.RetryAfter);
        }

        var body = JsonSerializer.SerializeToUtf8Bytes(ChatCompletionWriter.Completion(response, request.Model, _id, _created, Grounding), ChatCompletionsEndpoint.Json);
        WriteRateLimitHeaders();
        http.Response.ContentType = "application/json";
        http.Response.ContentLength = body.Length;
        await http.Response.Body.WriteAsync(body, cancellationToken);
        return new Answer(StatusCodes.Status200OK, () => Encoding.UTF8.GetString(body));
    }

    /// <param name="revoked">Fires when the caller's key is revoked: the stream ends with an error event.</param>
    public async Task<Answer?> StreamAsync(IChatClient client, CancellationToken clientGone, CancellationToken revoked)
    {
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(clientGone, revoked);
        var cancellationToken = ended.Token;
        var updates = new List<ChatResponseUpdate>();
        var toolIndex = 0;
        try
        {
            await using var stream = client.GetStreamingResponseAsync(request.Messages, request.Options, cancellationToken).GetAsyncEnumerator(cancellationToken);
            while (true)
            {
                // What is written goes out before any wait for the next update, and updates that are
                // already there (the opening role chunk and the first content) leave together.
                var next = stream.MoveNextAsync();
                if (!next.IsCompleted && _sse is not null)
                {
                    await _sse.FlushAsync(cancellationToken);
                }

                if (!await next)
                {
                    break;
                }

                var update = stream.Current;
                updates.Add(update);
                if (_sse is null)
                {
                    StartStream();
                }

                if (ChatChunkWriter.Delta(update, ref toolIndex) is { } delta)
                {
                    _sse!.Data(ChatChunkWriter.Chunk(_id, _created, request.Model, delta, null));
                }
            }
        }
        catch (OperationCanceledException) when (clientGone.IsCancellationRequested)
        {
            return null;
        }
        catch (OperationCanceledException) when (revoked.IsCancellationRequested)
        {
            var error = OpenAiError.ForStatus(StatusCodes.Status401Unauthorized, "The API key of this request was revoked.", "key_revoked");
            if (_sse is not null)
            {
                await SendAsync(error.Body(), CancellationToken.None);
            }
            else
            {
                await error.WriteAsync(http);
            }

            return null;
        }
        catch (Exception exception) when (GatewayErrors.From(exception) is { } mapped)
        {
            if (_sse is null)
            {
                return await FailAsync(mapped.Error, mapped.RetryAfter);
            }

            // The stream has begun (its 200 and first events are written): an error event, and no
            // [DONE], tells the client the answer is incomplete; OpenAI's libraries raise it as an error.
            await SendAsync(mapped.Error.Body(), CancellationToken.None);
            return null;
        }
        catch (Exception) when (_sse is not null && !http.Response.HasStarted)
        {
            // Events are written but not sent. Send them, so that the exception handler finds the
            // stream begun and ends the connection, rather than writing an error body after them.
            await _sse.FlushAsync(CancellationToken.None);
            throw;
        }

        if (_sse is null)
        {
            StartStream();
        }

        // The closing chunks leave together, in one write.
        var response = updates.ToChatResponse();
        var sse = _sse!;
        sse.Data(ChatChunkWriter.Chunk(_id, _created, request.Model, new { }, ChatCompletionWriter.FinishReason(response.FinishReason) ?? "stop"));
        if (request.IncludeUsage && response.Usage is { } usage)
        {
            sse.Data(ChatChunkWriter.UsageChunk(_id, _created, request.Model, usage));
        }

        if (Grounding is not null)
        {
            sse.Data(ChatChunkWriter.CitationsChunk(_id, _created, request.Model, Grounding));
        }

        sse.Done();
        await sse.FlushAsync(cancellationToken);
        return new Answer(StatusCodes.Status200OK,
            () => JsonSerializer.Serialize(ChatCompletionWriter.Completion(response, request.Model, _id, _created, Grounding), ChatCompletionsEndpoint.Json));
    }

    /// <summary>Plays back a stored answer, as a stream when it was first streamed.</summary>
    public static async Task ReplayAsync(HttpContext http, ChatIdempotency.StoredAnswer stored)
    {
        http.Response.StatusCode = stored.Status!.Value;
        if (stored.Streamed != true || stored.Status != StatusCodes.Status200OK)
        {
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync(stored.Body!);
            return;
        }

        using var completion = JsonDocument.Parse(stored.Body!);
        var root = completion.RootElement;
        var choice = root.GetProperty("choices")[0];
        var sse = SseWriter.Start(http.Response, ChatCompletionsEndpoint.Json);
        var chunk = new
        {
            id = root.GetProperty("id").GetString(),
            @object = "chat.completion.chunk",
            created = root.GetProperty("created").GetInt64(),
            model = root.GetProperty("model").GetString(),
            choices = new[] { new { index = 0, delta = choice.GetProperty("message"), finish_reason = choice.GetProperty("finish_reason").GetString() } },
        };
        sse.Data(chunk);
        sse.Done();
        await sse.FlushAsync(CancellationToken.None);
    }

    private async Task<Answer> FailAsync(OpenAiError error, TimeSpan? retryAfter)
    {
        WriteRateLimitHeaders();
        await error.WriteAsync(http, retryAfter);
        return new Answer(error.Status, () => JsonSerializer.Serialize(error.Body(), ChatCompletionsEndpoint.Json));
    }

    /// <summary>
    /// The headers and the opening role chunk, written for the next flush: when the first content is
    /// already there, the client gets both in one write.
    /// </summary>
    private void StartStream()
    {
        WriteRateLimitHeaders();
        _sse = SseWriter.Start(http.Response, ChatCompletionsEndpoint.Json);
        _sse.Data(ChatChunkWriter.Chunk(_id, _created, request.Model, new { role = "assistant", content = "" }, null));
    }

    private async Task SendAsync(object payload, CancellationToken cancellationToken)
    {
        _sse!.Data(payload);
        await _sse.FlushAsync(cancellationToken);
    }

    /// <summary>
    /// OpenAI's x-ratelimit-* headers, from the limits admission checked (none on a cache hit or without
    /// limits), and <c>x-cache-status</c>: what the caches did (HIT, SEMANTIC_HIT, MISS, BYPASS).
    /// </summary>
    private void WriteRateLimitHeaders()
    {
        if (!http.Response.HasStarted && Orchestration.Pipeline.ModelCallContext.Find(request.Options) is { } call)
        {
            http.Response.Headers["x-cache-status"] = call.CacheStatus;
        }

        Write(RequestHeaders, caller.Requests);
        Write(TokenHeaders, caller.Tokens);

        void Write(RateLimitHeaderNames names, RateLimitSnapshot? snapshot)
        {
            if (snapshot is null || http.Response.HasStarted)
            {
                return;
            }

            http.Response.Headers[names.Limit] = snapshot.Limit.ToString(CultureInfo.InvariantCulture);
            http.Response.Headers[names.Remaining] = snapshot.Remaining.ToString(CultureInfo.InvariantCulture);
            http.Response.Headers[names.Reset] = snapshot.Reset.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";
        }
    }

    private static readonly RateLimitHeaderNames RequestHeaders = new("requests");
    private static readonly RateLimitHeaderNames TokenHeaders = new("tokens");

    /// <summary>One kind's header names, made once rather than on every response.</summary>
    private sealed record RateLimitHeaderNames(string Kind)
    {
        public string Limit { get; } = "x-ratelimit-limit-" + Kind;

        public string Remaining { get; } = "x-ratelimit-remaining-" + Kind;

        public string Reset { get; } = "x-ratelimit-reset-" + Kind;
    }
}
