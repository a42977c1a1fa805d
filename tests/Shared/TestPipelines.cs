using AspireLlm.Orchestration;
using AspireLlm.Orchestration.Admission;
using AspireLlm.Orchestration.Caching;
using AspireLlm.Orchestration.Encryption;
using AspireLlm.Orchestration.Resilience;
using AspireLlm.Orchestration.Routing;
using AspireLlm.Orchestration.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace AspireLlm.Tests.Shared;

/// <summary>Builds a model pipeline the way the Api and Worker do, without a host.</summary>
public static class TestPipelines
{
    public static ModelCatalog Catalog(
        OrchestrationOptions? options = null, TimeProvider? timeProvider = null, IConnectionMultiplexer? redis = null,
        SharedBreakerBoard? board = null, IModelAdmission? admission = null, IConfiguration? configuration = null,
        IAnswerCacheStore? cacheStore = null, ContentCipher? cipher = null)
    {
        timeProvider ??= TimeProvider.System;
        var telemetry = new OrchestrationTelemetry();
        board ??= new SharedBreakerBoard(null, telemetry, NullLogger<SharedBreakerBoard>.Instance, timeProvider);
        return new ModelCatalog(
            Options.Create(options ?? OrchestrationOptions.Simulated()), configuration ?? new ConfigurationBuilder().Build(), timeProvider,
            telemetry, board, admission ?? NoModelAdmission.Instance, NullLoggerFactory.Instance, redis, cacheStore,
            cipher ?? TestEncryption.Cipher);
    }
}
