using AspireLlm.Orchestration.Routing;
using AspireLlm.Orchestration.Telemetry;
using Microsoft.Extensions.AI;

namespace AspireLlm.Orchestration.Caching;

/// <summary>The cache stages of an alias's pipeline, composed as Microsoft.Extensions.AI composes its own.</summary>
public static class CachingChatClientBuilderExtensions
{
    /// <summary>
    /// Answers repeatable requests from <paramref name="store"/> (see <see cref="ModelAliasOptions.Cache"/>);
    /// without a store every request is a bypass.
    /// </summary>
    public static ChatClientBuilder UseExactCache(
        this ChatClientBuilder builder, AliasRoute route, IAnswerCacheStore? store, CacheOptions options,
        OrchestrationTelemetry telemetry, TimeProvider timeProvider) =>
        builder.Use(inner => new ExactCacheChatClient(inner, route, store, options, telemetry, timeProvider));

    /// <summary>
    /// For aliases with <see cref="CachePolicy.Semantic"/>: answers a question from the stored answer to an
    /// equivalent earlier one. Goes after the exact cache. Other aliases, or no <paramref name="cache"/>, add nothing.
    /// </summary>
    public static ChatClientBuilder UseSemanticCache(
        this ChatClientBuilder builder, AliasRoute route, SemanticCache? cache, OrchestrationTelemetry telemetry) =>
        cache is null || route.Options.Cache != CachePolicy.Semantic
            ? builder
            : builder.Use(inner => new SemanticCacheChatClient(inner, route, cache, telemetry));
}
