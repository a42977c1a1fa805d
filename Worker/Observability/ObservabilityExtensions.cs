using AspireLlm.Orchestration.Observability;

namespace AspireLlm.Worker.Observability;

internal static class WorkerObservabilityExtensions
{
    /// <summary>The Worker's telemetry, the queue-depth gauge, and its share of the cluster's metric rollups.</summary>
    public static IHostApplicationBuilder AddWorkerObservability(this IHostApplicationBuilder builder)
    {
        builder.AddMetricRollup();
        builder.Services.AddSingleton<WorkerTelemetry>();
        builder.Services.AddHostedService<QueueDepthSampler>();
        return builder;
    }
}
