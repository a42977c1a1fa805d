using System.Runtime.CompilerServices;
using AspireLlm.Orchestration.Pipeline;
using AspireLlm.Orchestration.Routing;
using AspireLlm.Orchestration.Telemetry;
using Microsoft.Extensions.AI;

namespace AspireLlm.Orchestration.Caching;

/// <summary>
/// The semantic cache stage, after the exact cache: an eligible question (see
/// <see cref="SemanticCache.QuestionOf"/>) is answered from an equivalent earlier one's answer when there
/// is one, and its own complete answer is stored otherwise. A hit costs nothing and reaches no provider
/// (admission is further in); it is marked in the context, the answer and the cache counter.
/// </summary>
internal sealed class SemanticCacheChatClient(IChatClient inner, AliasRoute route, SemanticCache cache, OrchestrationTelemetry telemetry)
    : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var (callOptions, context) = ModelCallContext.Ensure(options);
        var list = messages as IReadOnlyList<ChatMessage> ?? [.. messages];
        if (cache.QuestionOf(list) is not { } question)
        {
            return await base.GetResponseAsync(list, callOptions, cancellationToken);
        }

        var (hit, probe) = await cache.LookupAsync(context.Tenant, route.Alias, list, callOptions, question, cancellationToken);
        if (hit is not null)
        {
            return Hit(hit, context);
        }

        var response = await base.GetResponseAsync(list, callOptions, cancellationToken);
        if (probe is not null)
        {
            _ = cache.StoreAsync(probe, response);
        }

        return response;
    }

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var (callOptions, context) = ModelCallContext.Ensure(options);
        var list = messages as IReadOnlyList<ChatMessage> ?? [.. messages];
        var question = cache.QuestionOf(list);
        var (hit, probe) = question is null ? (null, null)
            : await cache.LookupAsync(context.Tenant, route.Alias, list, callOptions, question, cancellationToken);
        if (hit is not null)
        {
            foreach (var update in Hit(hit, context).ToChatResponseUpdates())
            {
                yield return update;
            }

            yield break;
        }

        var updates = probe is null ? null : new List<ChatResponseUpdate>();
        await foreach (var update in base.GetStreamingResponseAsync(list, callOptions, cancellationToken))
        {
            updates?.Add(update);
            yield return update;
        }

        // Reached only when the stream completed.
        if (probe is not null)
        {
            _ = cache.StoreAsync(probe, updates!.ToChatResponse());
        }
    }

    private ChatResponse Hit(ChatResponse cached, ModelCallContext context)
    {
        context.Cache = CacheOutcome.SemanticHit;
        telemetry.CacheOutcome(route.Alias, CacheOutcome.SemanticHit);
        (cached.AdditionalProperties ??= [])[ExactCacheChatClient.CacheProperty] = "semantic_hit";
        cached.AdditionalProperties[FallbackChatClient.CostProperty] = 0m;
        return cached;
    }
}
