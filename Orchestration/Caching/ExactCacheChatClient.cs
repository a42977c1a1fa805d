using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using AspireLlm.Orchestration.Pipeline;
using AspireLlm.Orchestration.Routing;
using AspireLlm.Orchestration.Telemetry;
using Microsoft.Extensions.AI;

namespace AspireLlm.Orchestration.Caching;

/// <summary>
/// The top of an alias's pipeline: answers repeatable requests from Redis. Only deterministic
/// requests are eligible (unless the alias says otherwise), only complete answers are stored (never
/// errors, refusals or output cut at the token limit), and a cached answer to a streaming request
/// is replayed as a stream. Store trouble never fails a call: the cache is skipped instead.
/// </summary>
internal sealed class ExactCacheChatClient(
    IChatClient inner, AliasRoute route, IAnswerCacheStore? store, CacheOptions options,
    OrchestrationTelemetry telemetry, TimeProvider timeProvider) : DelegatingChatClient(inner)
{
    public const string CacheProperty = ModelCallContext.ResponseCacheProperty;

    private static readonly JsonTypeInfo<ChatResponse> ResponseJson =
        (JsonTypeInfo<ChatResponse>)AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(ChatResponse));

    public override Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? chatOptions = null, CancellationToken cancellationToken = default)
    {
        var (callOptions, context) = ModelCallContext.Ensure(chatOptions);
        if (!IsEligible(callOptions))
        {
            context.Cache = CacheOutcome.Bypassed;
            telemetry.CacheOutcome(route.Alias, CacheOutcome.Bypassed);
            return base.GetResponseAsync(messages, callOptions, cancellationToken);
        }

        return GetCachedResponseAsync(messages as IReadOnlyList<ChatMessage> ?? [.. messages], callOptions, context, cancellationToken);
    }

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? chatOptions = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var (callOptions, context) = ModelCallContext.Ensure(chatOptions);
        if (!IsEligible(callOptions))
        {
            context.Cache = CacheOutcome.Bypassed;
            telemetry.CacheOutcome(route.Alias, CacheOutcome.Bypassed);
            await foreach (var update in base.GetStreamingResponseAsync(messages, callOptions, cancellationToken))
            {
                yield return update;
            }

            yield break;
        }

        var messageList = messages as IReadOnlyList<ChatMessage> ?? [.. messages];
        var key = await KeyOfAsync(messageList, callOptions, context, cancellationToken);
        var entry = await ReadAsync(key);
        if (entry is { Fresh: true })
        {
            foreach (var update in Replay(entry.Response, context, CacheOutcome.Hit).ToChatResponseUpdates())
            {
                yield return update;
            }

            yield break;
        }

        Record(context, CacheOutcome.Miss);
        var updates = new List<ChatResponseUpdate>();
        await using var stream = base.GetStreamingResponseAsync(messageList, callOptions, cancellationToken).GetAsyncEnumerator(cancellationToken);
        ChatResponse? stale = null;
        try
        {
            if (!await stream.MoveNextAsync())
            {
                yield break;
            }
        }
        catch (ModelUnavailableException) when (entry is not null && route.Options.FallbackToCache)
        {
            stale = Replay(entry.Response, context, CacheOutcome.Stale);
        }

        if (stale is not null)
        {
            foreach (var update in stale.ToChatResponseUpdates())
            {
                yield return update;
            }

            yield break;
        }

        do
        {
            updates.Add(stream.Current);
            yield return stream.Current;
        }
        while (await stream.MoveNextAsync());

        // Reached only when the stream completed: a cancelled or broken one has thrown by now.
        Store(key, updates.ToChatResponse());
    }

    /// <summary>Hashing a huge prompt holds a core for milliseconds: it takes its turn as counting it does.</summary>
    private ValueTask<string> KeyOfAsync(
        IReadOnlyList<ChatMessage> messages, ChatOptions callOptions, ModelCallContext context, CancellationToken cancellationToken) =>
        Tokens.LargePromptGate.RunAsync(
            Tokens.LargePromptGate.CharactersOf(messages, callOptions),
            () => CacheKey.Compute(context.Tenant, route.Alias, messages, callOptions),
            cancellationToken);

    private async Task<ChatResponse> GetCachedResponseAsync(
        IReadOnlyList<ChatMessage> messages, ChatOptions callOptions, ModelCallContext context, CancellationToken cancellationToken)
    {
        var key = await KeyOfAsync(messages, callOptions, context, cancellationToken);
        var entry = await ReadAsync(key);
        if (entry is { Fresh: true })
        {
            return Replay(entry.Response, context, CacheOutcome.Hit);
        }

        Record(context, CacheOutcome.Miss);
        ChatResponse response;
        try
        {
            response = await base.GetResponseAsync(messages, callOptions, cancellationToken);
        }
        catch (ModelUnavailableException) when (entry is not null && route.Options.FallbackToCache)
        {
            return Replay(entry.Response, context, CacheOutcome.Stale);
        }

        Store(key, response);
        return response;
    }

    private bool IsEligible(ChatOptions options) => store is not null && route.Options.Cache switch
    {
        CachePolicy.Always or CachePolicy.Semantic => true,
        CachePolicy.Deterministic => options.Temperature == 0 || options.Seed is not null,
        _ => false,
    };

    /// <summary>Complete answers only: a refusal, an error or a cut-off answer must be asked again next time.</summary>
    internal static bool IsStorable(ChatResponse response) =>
        (response.FinishReason == ChatFinishReason.Stop || response.FinishReason == ChatFinishReason.ToolCalls)
        && !response.Messages.SelectMany(message => message.Contents).Any(content => content is ErrorContent);

    private ChatResponse Replay(ChatResponse cached, ModelCallContext context, CacheOutcome outcome)
    {
        Record(context, outcome);
        (cached.AdditionalProperties ??= [])[CacheProperty] = outcome == CacheOutcome.Hit ? "hit" : "stale";
        cached.AdditionalProperties[FallbackChatClient.CostProperty] = 0m;
        return cached;
    }

    private void Record(ModelCallContext context, CacheOutcome outcome)
    {
        context.Cache = outcome;
        telemetry.CacheOutcome(route.Alias, outcome);
    }

    private async Task<CacheEntry?> ReadAsync(string key)
    {
        if (await store!.GetAsync(key) is not { Length: > sizeof(long) } bytes)
        {
            return null;
        }

        try
        {
            var response = JsonSerializer.Deserialize(bytes.AsSpan(sizeof(long)), ResponseJson)!;
            var freshUntil = new DateTimeOffset(BinaryPrimitives.ReadInt64BigEndian(bytes), TimeSpan.Zero);
            return new CacheEntry(response, freshUntil > timeProvider.GetUtcNow());
        }
        catch (JsonException)
        {
            // Written by another version, or damaged: as good as absent, and overwritten on the next store.
            return null;
        }
    }

    private void Store(string key, ChatResponse response)
    {
        if (!IsStorable(response))
        {
            return;
        }

        // Eight bytes of "fresh until" (UTC ticks, big-endian) then the answer as UTF-8 JSON: one
        // value, one read, one parse.
        var json = JsonSerializer.SerializeToUtf8Bytes(response, ResponseJson);
        var value = new byte[sizeof(long) + json.Length];
        BinaryPrimitives.WriteInt64BigEndian(value, (timeProvider.GetUtcNow() + options.Ttl).UtcTicks);
        json.CopyTo(value.AsSpan(sizeof(long)));
        store!.Set(key, value, route.Options.FallbackToCache ? options.StaleTtl : options.Ttl);
    }

    private sealed record CacheEntry(ChatResponse Response, bool Fresh);
}
