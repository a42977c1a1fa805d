using AspireLlm.Orchestration.Observability;
using AspireLlm.Orchestration.Pipeline;

namespace AspireLlm.Api.Observability;

internal static class ApiObservabilityExtensions
{
    /// <summary>The Api's telemetry, its share of the cluster's metric rollups, and the gateway's usage ledger rows.</summary>
    public static IHostApplicationBuilder AddApiObservability(this IHostApplicationBuilder builder)
    {
        builder.AddMetricRollup();
        builder.Services.AddSingleton<ApiTelemetry>();
        builder.Services.AddSingleton<Admin.MetricQueries>();
        builder.Services.AddSingleton<GatewayUsage>();
        builder.Services.AddSingleton<IModelCallObserver>(services => services.GetRequiredService<GatewayUsage>());
        builder.Services.AddHostedService(services => services.GetRequiredService<GatewayUsage>());
        return builder;
    }
}
