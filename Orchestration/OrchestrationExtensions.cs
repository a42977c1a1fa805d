using AspireLlm.Orchestration.Routing;
using AspireLlm.Orchestration.Simulator;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AspireLlm.Orchestration;

public static class OrchestrationExtensions
{
    /// <summary>
    /// Registers the model catalog and its options (validated at start: a bad setting stops the
    /// process with a message naming it). Used by both the Api and the Worker.
    /// </summary>
    public static IHostApplicationBuilder AddOrchestration(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);

        builder.Services.AddOptions<OrchestrationOptions>()
            .Bind(builder.Configuration.GetSection(OrchestrationOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<OrchestrationOptions>, OrchestrationOptionsValidator>();

        builder.Services.AddOptions<SimulatorOptions>()
            .Bind(builder.Configuration.GetSection(SimulatorOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddSingleton<ModelCatalog>();
        return builder;
    }
}
