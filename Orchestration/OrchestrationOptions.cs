using System.ComponentModel.DataAnnotations;

namespace AspireLlm.Orchestration;

/// <summary>The model aliases this deployment routes, bound from <c>Orchestration</c>.</summary>
public sealed class OrchestrationOptions
{
    public const string SectionName = "Orchestration";

    /// <summary>Model alias → where it is served. The defaults serve two aliases from the simulator.</summary>
    [Required]
    public Dictionary<string, ModelRoute> Models { get; set; } = new(StringComparer.Ordinal)
    {
        ["gpt-4o-mini"] = new() { Provider = ProviderNames.Simulator, Model = "sim-gpt-4o-mini" },
        ["claude-sonnet"] = new() { Provider = ProviderNames.Simulator, Model = "sim-claude-sonnet" },
    };
}

/// <summary>One alias's provider and the model name sent to it.</summary>
public sealed class ModelRoute
{
    [Required]
    public string Provider { get; set; } = ProviderNames.Simulator;

    [Required]
    public string Model { get; set; } = "";
}

public static class ProviderNames
{
    public const string Simulator = "simulator";
}
