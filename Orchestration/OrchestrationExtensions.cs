using AspireLlm.Orchestration.Admission;
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

        // First among the hosted services: what starts after it (Hangfire's servers, Kestrel) finds the tokenizers loaded.
        builder.Services.Insert(0, ServiceDescriptor.Singleton<IHostedService, Tokens.TokenizerWarmUp>());
        builder.Services.TryAddSingleton<IModelAdmission>(NoModelAdmission.Instance);
        builder.Services.AddSingleton<OrchestrationTelemetry>();
        builder.Services.AddSingleton(services => new SharedBreakerBoard(
            services.GetService<IConnectionMultiplexer>(), services.GetRequiredService<OrchestrationTelemetry>(),
            services.GetRequiredService<ILogger<SharedBreakerBoard>>(), services.GetRequiredService<TimeProvider>()));
        builder.Services.AddHostedService(services => services.GetRequiredService<SharedBreakerBoard>());
        builder.Services.AddSingleton(services => new ModelCatalog(
            services.GetRequiredService<IOptions<OrchestrationOptions>>(), services.GetRequiredService<IConfiguration>(),
            services.GetRequiredService<TimeProvider>(), services.GetRequiredService<OrchestrationTelemetry>(),
            services.GetRequiredService<SharedBreakerBoard>(), services.GetRequiredService<IModelAdmission>(),
            services.GetService<ILoggerFactory>(), services.GetService<IConnectionMultiplexer>(), cipher: services.GetRequiredService<ContentCipher>(),
            observer: services.GetService<Pipeline.IModelCallObserver>()));
        builder.Services.AddSingleton(services => new Embeddings.EmbeddingCatalog(
            services.GetRequiredService<IOptions<OrchestrationOptions>>(), services.GetRequiredService<IConfiguration>(),
            services.GetRequiredService<TimeProvider>(), services.GetRequiredService<OrchestrationTelemetry>(),
            services.GetRequiredService<ILoggerFactory>()));
        return builder;
    }
}
