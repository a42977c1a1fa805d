using System.Text.Json;
using AspireLlm.Orchestration.Admission;
using AspireLlm.Api.ApiKeys;
using AspireLlm.Api.Errors;
using AspireLlm.Api.Streams;
using AspireLlm.Orchestration.Hashing;
using AspireLlm.Orchestration.Pipeline;
using AspireLlm.Orchestration.Routing;
using AspireLlm.Orchestration.ChatRequests;
using AspireLlm.Orchestration.Retrieval;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace AspireLlm.Api.Gateway;

/// <summary>
/// <c>POST /v1/chat/completions</c>: OpenAI's endpoint, served through the model pipeline. The Api
/// does no slow work itself: it validates, admits and relays; the provider call is the pipeline's.
/// A client that disconnects cancels the provider call at once; its partial usage is still charged
/// (the pipeline settles admission with it) and nothing partial is cached.
/// </summary>
public static class ChatCompletionsEndpoint
{
    /// <summary>The OpenAI-shaped answers' serialisation, the same as chat jobs' results.</summary>
    internal static JsonSerializerOptions Json => Orchestration.ChatRequests.ChatCompletionWriter.Json;

    public static async Task HandleAsync(
        HttpContext http, ModelCatalog models, ChatIdempotency idempotency, IOptions<GatewayOptions> options, TimeProvider timeProvider)
    {
        var cancellationToken = http.RequestAborted;
        var key = Caller.KeyOf(http);
        var (document, bodyError) = await RequestBody.ReadAsync(http, cancellationToken);
        if (bodyError is not null)
        {
            await OpenAiError.ForStatus(bodyError.Status, bodyError.Message).WriteAsync(http);
            return;
        }

        using (document)
        {
            // Turning a body near the limit into messages copies megabytes: large ones take their turn.
            var root = document!.RootElement;
            var (request, parseError) = await Orchestration.Tokens.LargePromptGate.RunAsync(
                http.Request.ContentLength ?? 0, () => ChatCompletionParser.Parse(root), cancellationToken);
            var error = parseError is not null ? OpenAiError.From(parseError) : OpenAiError.ForModel(request!.Model, models.IsKnown(request.Model), key.Limits);
            if (error is not null)
            {
                await error.WriteAsync(http);
                return;
            }

            IdempotencyClaim? claim = null;
            if (http.Request.Headers["Idempotency-Key"].ToString() is { Length: > 0 } idempotencyKey)
            {
                if (idempotencyKey.Length > 255)
                {
                    await OpenAiError.Invalid("The Idempotency-Key header may be at most 255 characters.", "Idempotency-Key").WriteAsync(http);
                    return;
                }

                claim = await idempotency.ClaimAsync(
                    key.Id, idempotencyKey, CanonicalJson.Hash(document!.RootElement), TimeSpan.FromSeconds(options.Value.SyncTimeoutSeconds + 30));
                if (await AnswerRepeatAsync(http, claim))
                {
                    return;
                }
            }

            CompletionResponder.Answer? outcome = null;
            try
            {
                outcome = await CompleteAsync(http, models, key, request!, options.Value, timeProvider);
            }
            finally
            {
                if (claim is not null)
                {
                    await SettleClaimAsync(idempotency, claim, outcome, request!.Stream, http.RequestServices.GetRequiredService<ILogger<ChatIdempotency>>());
                }
            }
        }
    }

    /// <summary>
    /// Runs a validated request through the pipeline, as this key (its limits are admission's), and
    /// writes the answer; returns what was answered, or null when the client left first.
    /// </summary>
    internal static async Task<CompletionResponder.Answer?> CompleteAsync(
        HttpContext http, ModelCatalog models, ApiKeyRecord key, ChatCompletionRequest request, GatewayOptions options, TimeProvider timeProvider)
    {
        var caller = key.ToSubject();
        var deadline = timeProvider.GetUtcNow().AddSeconds(options.SyncTimeoutSeconds);
        request.Options.WithCallContext(new ModelCallContext(key.TenantId, deadline, caller));
        var client = models.GetChatClient(request.Model);
        GroundingResult? grounding = null;
        if (request.Retrieval is { } retrieval)
        {
            try
            {
                grounding = await http.RequestServices.GetRequiredService<Grounding>().GroundAsync(key.TenantId, retrieval, request.Messages, http.RequestAborted);
                request = request with { Messages = grounding.Messages };
            }
            catch (CollectionNotFoundException notFound)
            {
                var error = new OpenAiError(StatusCodes.Status404NotFound, notFound.Message, "invalid_request_error", "retrieval.collection", "collection_not_found");
                await error.WriteAsync(http);
                return new CompletionResponder.Answer(error.Status, () => JsonSerializer.Serialize(error.Body(), Json));
            }
        }

        var responder = new CompletionResponder(http, request, caller, timeProvider) { Grounding = grounding };
        if (!request.Stream)
        {
            return await responder.RespondAsync(client, http.RequestAborted);
        }

        // A stream may outlive its key: registered, so that revoking the key ends it.
        await using var stream = (await http.RequestServices.GetRequiredService<OpenStreams>().OpenAsync(key.Id, cap: null))!;
        return await responder.StreamAsync(client, http.RequestAborted, stream.Revoked);
    }

    /// <summary>
    /// Keeps the answer for replays, or frees the key. The answer has already been sent, so a Redis
    /// failure here must not turn it into an error: it is logged, and the claim lapses at its expiry.
    /// </summary>
    private static async Task SettleClaimAsync(
        ChatIdempotency idempotency, IdempotencyClaim claim, CompletionResponder.Answer? outcome, bool streamed, ILogger logger)
    {
        try
        {
            await (outcome is { } answer ? idempotency.CompleteAsync(claim, answer.Status, answer.Body, streamed) : idempotency.ReleaseAsync(claim));
        }
        catch (Exception exception) when (exception is StackExchange.Redis.RedisException or TimeoutException)
        {
            logger.LogWarning(exception, "Could not record the outcome of an idempotent request; its key frees itself when the claim expires.");
        }
    }

    /// <summary>Answers a repeated Idempotency-Key; false when this is the first request with it.</summary>
    private static async Task<bool> AnswerRepeatAsync(HttpContext http, IdempotencyClaim claim)
    {
        switch (claim.State)
        {
            case IdempotencyState.InProgress:
                await new OpenAiError(StatusCodes.Status409Conflict,
                    "A request with this Idempotency-Key is still in progress.", "invalid_request_error", "Idempotency-Key", "idempotency_in_progress").WriteAsync(http);
                return true;
            case IdempotencyState.Mismatch:
                await new OpenAiError(StatusCodes.Status422UnprocessableEntity,
                    "This Idempotency-Key was used with a different request body.", "invalid_request_error", "Idempotency-Key", "idempotency_mismatch").WriteAsync(http);
                return true;
            case IdempotencyState.Replay:
                http.Response.Headers["Idempotent-Replayed"] = "true";
                await CompletionResponder.ReplayAsync(http, claim.Stored!);
                return true;
            default:
                return false;
        }
    }
}
