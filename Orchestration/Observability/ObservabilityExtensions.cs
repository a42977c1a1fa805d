using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace AspireLlm.Orchestration.Observability;

public static class ObservabilityExtensions
{
    /// <summary>
    /// Sums this process's metrics per minute in memory and adds them to Postgres every few seconds,
    /// where the Api's admin endpoints read the whole cluster's figures (Api and Worker both call this).
    /// Needs an <c>NpgsqlDataSource</c>.
    /// </summary>
    public static IHostApplicationBuilder AddMetricRollup(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ObservabilityOptions>().Bind(builder.Configuration.GetSection(ObservabilityOptions.SectionName))
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<MetricRollup>();
        builder.Services.AddSingleton<MetricFlusher>();
        builder.Services.AddHostedService<MetricRollupListener>();
        builder.Services.AddHostedService(services => services.GetRequiredService<MetricFlusher>());
        return builder;
    }
}
