using System.Runtime.CompilerServices;
using System.Text.Json;
using AspireLlm.Orchestration.Pipeline;
using AspireLlm.Orchestration.Routing;
using AspireLlm.Orchestration.Telemetry;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace AspireLlm.Orchestration.Caching;

/// <summary>
/// The top of an alias's pipeline: answers repeatable requests from Redis. Only deterministic
/// requests are eligible (unless the alias says otherwise), only complete answers are stored (never
/// errors, refusals or output cut at the token limit), and a cached answer to a streaming request
/// is replayed as a stream. Redis trouble never fails a call: the cache is skipped instead.
/// </summary>
public sealed class ExactCacheChatClient(
    IChatClient inner, AliasRoute route, IConnectionMultiplexer? redis, CacheOptions options,
    OrchestrationTelemetry telemetry, ILogger logger, TimeProvider timeProvider) : DelegatingChatClient(inner)
{
    public const string CacheProperty = "aspirellm.cache";

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
        var key = CacheKey.Compute(context.Tenant, route.Alias, messageList, callOptions);
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

    private async Task<ChatResponse> GetCachedResponseAsync(
        IReadOnlyList<ChatMessage> messages, ChatOptions callOptions, ModelCallContext context, CancellationToken cancellationToken)
    {
        var key = CacheKey.Compute(context.Tenant, route.Alias, messages, callOptions);
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

    private bool IsEligible(ChatOptions options) => redis is not null && route.Options.Cache switch
    {
        CachePolicy.Always => true,
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
        try
        {
            var value = await redis!.GetDatabase().StringGetAsync(key);
            if (value.IsNull)
            {
                return null;
            }

            var stored = JsonSerializer.Deserialize(value.ToString(), CacheJson.Default.StoredAnswer)!;
            var response = stored.Response.Deserialize<ChatResponse>(AIJsonUtilities.DefaultOptions)!;
            return new CacheEntry(response, stored.FreshUntil > timeProvider.GetUtcNow());
        }
        catch (Exception exception) when (exception is RedisException or JsonException or ObjectDisposedException)
        {
            logger.CacheUnavailable(route.Alias, exception.GetType().Name);
            return null;
        }
    }

    private void Store(string key, ChatResponse response)
    {
        if (!IsStorable(response))
        {
            return;
        }

        try
        {
            var stored = new StoredAnswer(
                timeProvider.GetUtcNow() + options.Ttl, JsonSerializer.SerializeToElement(response, AIJsonUtilities.DefaultOptions));
            var ttl = route.Options.FallbackToCache ? options.StaleTtl : options.Ttl;

            // Fire and forget: the caller has its answer; storing it must not add a round trip.
            redis!.GetDatabase().StringSet(key, JsonSerializer.Serialize(stored, CacheJson.Default.StoredAnswer), ttl, flags: CommandFlags.FireAndForget);
        }
        catch (Exception exception) when (exception is RedisException or ObjectDisposedException)
        {
            logger.CacheUnavailable(route.Alias, exception.GetType().Name);
        }
    }

    private sealed record CacheEntry(ChatResponse Response, bool Fresh);
}

internal sealed record StoredAnswer(DateTimeOffset FreshUntil, JsonElement Response);

[System.Text.Json.Serialization.JsonSerializable(typeof(StoredAnswer))]
internal sealed partial class CacheJson : System.Text.Json.Serialization.JsonSerializerContext;

internal static partial class CacheLog
{
    [LoggerMessage(EventId = 3101, Level = LogLevel.Warning, Message = "Model {Alias}: the answer cache is unavailable ({Error}); calling the provider instead.")]
    public static partial void CacheUnavailable(this ILogger logger, string alias, string error);
}
