using System.ComponentModel.DataAnnotations;
using AspireLlm.Orchestration.Simulator;

namespace AspireLlm.Orchestration;

/// <summary>
/// Where model calls go and how they are protected, bound from <c>Orchestration</c>. When no
/// deployment is configured, <see cref="DefaultRouting"/> fills in one per built-in alias: the real
/// provider when its key is configured, the simulator otherwise.
/// </summary>
public sealed class OrchestrationOptions
{
    public const string SectionName = "Orchestration";

    /// <summary>Deployment name → one model at one provider endpoint.</summary>
    public Dictionary<string, DeploymentOptions> Deployments { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Model alias (what callers ask for) → its ordered fallback chain of deployment groups.</summary>
    public Dictionary<string, ModelAliasOptions> Models { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Embedding model alias → the deployments that serve it, tried in order.</summary>
    public Dictionary<string, EmbeddingAliasOptions> EmbeddingModels { get; set; } = new(StringComparer.Ordinal);

    [Required]
    public ResilienceOptions Resilience { get; set; } = new();

    [Required]
    public CacheOptions Cache { get; set; } = new();

    [Required]
    public SimulatorOptions Simulator { get; set; } = new();

    /// <summary>The built-in aliases served by the simulator: what a fresh install without keys runs, and what tests start from.</summary>
    public static OrchestrationOptions Simulated() => DefaultRouting.Simulated();
}

/// <summary>An embedding model alias: its deployments, tried in order until one answers.</summary>
public sealed class EmbeddingAliasOptions
{
    [Required]
    public List<string> Deployments { get; set; } = [];

    /// <summary>Replace personal data in the inputs before they leave for the provider (as <see cref="ModelAliasOptions.RedactPrompts"/> does for chat).</summary>
    public bool RedactInputs { get; set; }
}

/// <summary>How long cached answers live.</summary>
public sealed class CacheOptions
{
    /// <summary>How long a cached answer is served as a hit.</summary>
    public TimeSpan Ttl { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long it is kept as a last resort for aliases with <see cref="ModelAliasOptions.FallbackToCache"/>.</summary>
    public TimeSpan StaleTtl { get; set; } = TimeSpan.FromDays(1);
}
