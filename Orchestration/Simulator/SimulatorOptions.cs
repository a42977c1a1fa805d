using System.ComponentModel.DataAnnotations;

namespace AspireLlm.Orchestration.Simulator;

/// <summary>Behaviour of the built-in simulator provider.</summary>
public sealed class SimulatorOptions
{
    public const string SectionName = "Orchestration:Simulator";

    /// <summary>Delay before the first token, in milliseconds.</summary>
    [Range(0, 600_000)]
    public int LatencyMs { get; set; }

    /// <summary>Generation speed after the first token; 0 means all tokens at once.</summary>
    [Range(0, 1_000_000)]
    public int TokensPerSecond { get; set; }

    /// <summary>Upper bound of generated tokens when the request sets none.</summary>
    [Range(1, 4096)]
    public int DefaultMaxOutputTokens { get; set; } = 24;
}
