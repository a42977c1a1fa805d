using AspireLlm.Orchestration.Admission;
using AspireLlm.Orchestration.Caching;
using AspireLlm.Orchestration.Retrieval;
using AspireLlm.Orchestration.Vectors;
using AspireLlm.Orchestration.Encryption;
using AspireLlm.Orchestration.Resilience;
using AspireLlm.Orchestration.Routing;
using AspireLlm.Orchestration.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace AspireLlm.Orchestration;

public static class OrchestrationExtensions
{
    /// <summary>
    /// Enforces API keys' rate limits and budgets on every model call, in Redis. Call before
    /// <see cref="AddOrchestration"/>, which otherwise registers the admit-everything default.
    /// </summary>
    public static IHostApplicationBuilder AddRedisAdmission(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AdmissionOptions>().Bind(builder.Configuration.GetSection(AdmissionOptions.SectionName));
        builder.Services.AddSingleton<IModelAdmission, RedisModelAdmission>();
        builder.Services.AddSingleton<AdmissionSubjects>();
        return builder;
    }

    /// <summary>
    /// Loads the local embedding model as the process starts, where it stands in for a provider's alias
    /// (see <see cref="Embeddings.LocalEmbeddingWarmUp"/>). For the Api, which answers searches and
    /// embeddings requests within a request's time. A Worker loads it on first use: an index job can wait
    /// the few seconds of a first load, and a Worker that never indexes does not carry the model nor
    /// spend its first seconds of CPU on it (a Worker fault test timed out in CI while both cores loaded it).
    /// </summary>
    public static IHostApplicationBuilder AddLocalEmbeddingWarmUp(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHostedService<Embeddings.LocalEmbeddingWarmUp>();
        return builder;
    }

    /// <summary>See <see cref="Tokens.HeavyWorkPriority"/>; our container images set <c>Idle</c>.</summary>
    public const string HeavyWorkPrioritySetting = "Orchestration:HeavyWorkPriority";

    /// <summary>
    /// Registers the model pipeline and its options (validated at start: a bad setting stops the
    /// process with a message naming it). Used by both the Api and the Worker. Redis, when
    /// registered, carries the answer cache (sealed with the content cipher, registered here too)
    /// and the shared circuit state.
    /// </summary>
    public static IHostApplicationBuilder AddOrchestration(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.AddContentEncryption();

        builder.Services.AddOptions<OrchestrationOptions>()
            .Bind(builder.Configuration.GetSection(OrchestrationOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IPostConfigureOptions<OrchestrationOptions>, DefaultRouting>();
        builder.Services.AddSingleton<IValidateOptions<OrchestrationOptions>>(
            services => new OrchestrationOptionsValidator(services.GetRequiredService<IConfiguration>()));

        // Process-wide, so set here once: how the threads doing heavy work for one caller are scheduled.
        Tokens.BackgroundCpuWork.Priority = builder.Configuration.GetValue(HeavyWorkPrioritySetting, Tokens.HeavyWorkPriority.Normal);

        // First among the hosted services: what starts after it (Hangfire's servers, Kestrel) finds the tokenizers loaded.
        builder.Services.Insert(0, ServiceDescriptor.Singleton<IHostedService, Tokens.TokenizerWarmUp>());
        builder.Services.TryAddSingleton<IModelAdmission>(NoModelAdmission.Instance);
        builder.Services.AddSingleton<OrchestrationTelemetry>();
        builder.Services.AddSingleton(services => new SharedBreakerBoard(
            services.GetService<IConnectionMultiplexer>(), services.GetRequiredService<OrchestrationTelemetry>(),
            services.GetRequiredService<ILogger<SharedBreakerBoard>>(), services.GetRequiredService<TimeProvider>()));
        builder.Services.AddHostedService(services => services.GetRequiredService<SharedBreakerBoard>());
        // The vector sets live on the "vectors" Redis when one is configured (Garnet beside a Redis 7, say), else on the main one.
        builder.Services.TryAddSingleton(services =>
            (services.GetKeyedService<IConnectionMultiplexer>(VectorSets.ConnectionName) ?? services.GetService<IConnectionMultiplexer>()) is { } vectors
                ? new VectorSets(vectors) : null!);
        builder.Services.AddOptions<SemanticCacheOptions>()
            .Bind(builder.Configuration.GetSection(SemanticCacheOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton(services => services.GetService<VectorSets>() is { } vectors
            ? new SemanticCache(vectors, services.GetRequiredService<Embeddings.EmbeddingCatalog>(), services.GetRequiredService<ContentCipher>(),
                services.GetRequiredService<IOptions<SemanticCacheOptions>>().Value, services.GetRequiredService<ILogger<SemanticCache>>())
            : null!);
        builder.Services.AddSingleton(services => new ModelCatalog(
            services.GetRequiredService<IOptions<OrchestrationOptions>>(), services.GetRequiredService<IConfiguration>(),
            services.GetRequiredService<TimeProvider>(), services.GetRequiredService<OrchestrationTelemetry>(),
            services.GetRequiredService<SharedBreakerBoard>(), services.GetRequiredService<IModelAdmission>(),
            services.GetService<ILoggerFactory>(), services.GetService<IConnectionMultiplexer>(), cipher: services.GetRequiredService<ContentCipher>(),
            semanticCache: services.GetService<SemanticCache>(), observer: services.GetService<Pipeline.IModelCallObserver>()));
        builder.Services.AddSingleton(services => new Embeddings.EmbeddingCatalog(
            services.GetRequiredService<IOptions<OrchestrationOptions>>(), services.GetRequiredService<IConfiguration>(),
            services.GetRequiredService<TimeProvider>(), services.GetRequiredService<OrchestrationTelemetry>(),
            services.GetRequiredService<ILoggerFactory>()));
        return builder;
    }

    /// <summary>
    /// Collections, indexing and search (Postgres for documents, chunks and full text; the vector sets of
    /// <see cref="AddOrchestration"/> for the vector index; Redis, when registered, for the embedding cache).
    /// Used by the Api (search, grounding, uploads) and the Worker (indexing).
    /// </summary>
    public static IHostApplicationBuilder AddRetrieval(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RetrievalOptions>()
            .Bind(builder.Configuration.GetSection(RetrievalOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton(services => services.GetRequiredService<IOptions<RetrievalOptions>>().Value);
        builder.Services.AddSingleton<CollectionStore>();
        builder.Services.AddSingleton<LexicalHasher>();
        builder.Services.AddSingleton(services => services.GetService<IConnectionMultiplexer>() is { } redis
            ? new Embeddings.EmbeddingCache(redis, services.GetRequiredService<ContentCipher>()) : null!);
        builder.Services.AddSingleton(services => new DocumentIndexer(
            services.GetRequiredService<CollectionStore>(), services.GetRequiredService<Embeddings.EmbeddingCatalog>(),
            services.GetRequiredService<LexicalHasher>(), services.GetService<VectorSets>(), services.GetService<Embeddings.EmbeddingCache>(),
            services.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton(services => new RetrievalSearch(
            services.GetRequiredService<CollectionStore>(), services.GetRequiredService<Embeddings.EmbeddingCatalog>(),
            services.GetRequiredService<LexicalHasher>(), services.GetService<VectorSets>(), services.GetRequiredService<RetrievalOptions>(),
            services.GetService<IReranker>()));
        builder.Services.AddSingleton<Grounding>();
        return builder;
    }
}
