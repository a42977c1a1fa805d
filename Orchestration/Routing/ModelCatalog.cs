using AspireLlm.Orchestration.Admission;
using AspireLlm.Orchestration.Caching;
using AspireLlm.Orchestration.Encryption;
using AspireLlm.Orchestration.Pipeline;
using AspireLlm.Orchestration.Providers;
using AspireLlm.Orchestration.Redaction;
using AspireLlm.Orchestration.Resilience;
using AspireLlm.Orchestration.StructuredOutput;
using AspireLlm.Orchestration.Telemetry;
using AspireLlm.Orchestration.Tokens;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace AspireLlm.Orchestration.Routing;

/// <summary>
/// Resolves a model alias to its pipeline. Every model call in the Api and the Worker goes through
/// here, so this is the one place the pipeline is put together, outermost first:
/// exact cache → semantic cache (when the alias asks) → admission → structured-output check → prompt
/// redaction (when the alias asks) →
/// fallback across deployments → per deployment: circuit breaker, retries, attempt timeout,
/// GenAI telemetry → the provider's client.
/// </summary>
public sealed class ModelCatalog
{
    private readonly Dictionary<string, (AliasRoute Route, IChatClient Client)> _aliases;

    public ModelCatalog(
        IOptions<OrchestrationOptions> options, IConfiguration configuration, TimeProvider timeProvider,
        OrchestrationTelemetry telemetry, SharedBreakerBoard breakers, IModelAdmission admission,
        ILoggerFactory? loggerFactory = null, IConnectionMultiplexer? redis = null, IAnswerCacheStore? cacheStore = null,
        ContentCipher? cipher = null, SemanticCache? semanticCache = null, Pipeline.IModelCallObserver? observer = null)
    {
        var settings = options.Value;
        loggerFactory ??= NullLoggerFactory.Instance;
        var logger = loggerFactory.CreateLogger<ModelCatalog>();
        var providers = new ProviderClientFactory(configuration, settings.Simulator, timeProvider);
        var tokens = TokenCounter.Shared;
        // Answers are customer content: Redis only ever holds them sealed.
        cacheStore ??= redis is null ? null
            : new RedisAnswerCacheStore(redis, cipher ?? throw new ArgumentNullException(nameof(cipher), "A Redis answer cache needs a content cipher."), logger);

        var deployments = new Dictionary<string, ModelDeployment>(StringComparer.Ordinal);
        foreach (var name in settings.Models.Values.SelectMany(model => model.Groups).SelectMany(group => group.Deployments).Distinct())
        {
            var deployment = settings.Deployments[name];
            var provider = new ChatClientBuilder(providers.Create(name, deployment))
                .UseOpenTelemetry(loggerFactory, OrchestrationTelemetry.SourceName)
                .Build();
            var breaker = new CircuitBreaker(name, settings.Resilience.Breaker, timeProvider);
            breakers.Register(breaker);
            deployments[name] = new ModelDeployment(
                name, deployment, provider, DeploymentRetry.Build(name, settings.Resilience, timeProvider, telemetry, logger), breaker,
                tokens.EncodingFor(deployment.Provider, deployment.Model), timeProvider, telemetry);
        }

        _aliases = settings.Models.ToDictionary(
            pair => pair.Key,
            pair =>
            {
                var route = new AliasRoute(pair.Key, pair.Value,
                    [.. pair.Value.Groups.Select(group => new DeploymentGroup(group.Strategy, [.. group.Deployments.Select(name => deployments[name])]))]);
                // Outermost first; each stage is internal and added by its Use... extension.
                var builder = new ChatClientBuilder(new FallbackChatClient(route, tokens, settings.Resilience, telemetry, logger, timeProvider))
                    .UseObservation(pair.Key, observer)
                    .UseExactCache(route, cacheStore, settings.Cache, telemetry, timeProvider)
                    .UseSemanticCache(route, semanticCache, telemetry)
                    .UseAdmission(route, admission, tokens)
                    .UseStructuredOutput()
                    .UseRedaction(pair.Value.RedactPrompts);
                return (route, builder.Build());
            },
            StringComparer.Ordinal);
    }

    /// <summary>The aliases this deployment routes, in a stable order.</summary>
    public IReadOnlyList<string> Aliases => [.. _aliases.Keys.Order(StringComparer.Ordinal)];

    public bool IsKnown(string alias) => _aliases.ContainsKey(alias);

    /// <summary>The resolved route of <paramref name="alias"/>: its deployments, their circuits and prices.</summary>
    public AliasRoute GetRoute(string alias) => Find(alias).Route;

    /// <summary>The pipeline for <paramref name="alias"/>; throws for an alias that was not validated first.</summary>
    public IChatClient GetChatClient(string alias) => Find(alias).Client;

    private (AliasRoute Route, IChatClient Client) Find(string alias) =>
        _aliases.TryGetValue(alias, out var found)
            ? found
            : throw new KeyNotFoundException($"Model alias '{alias}' is not routed by this deployment.");
}
