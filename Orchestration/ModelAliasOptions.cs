using System.ComponentModel.DataAnnotations;

namespace AspireLlm.Orchestration;

/// <summary>A model alias: the groups of deployments tried in order until one answers.</summary>
public sealed class ModelAliasOptions
{
    /// <summary>Tried first to last; a later group is used only when every deployment of the earlier ones failed.</summary>
    [Required]
    public List<DeploymentGroupOptions> Groups { get; set; } = [];

    /// <summary>Which requests the exact cache may answer.</summary>
    public CachePolicy Cache { get; set; } = CachePolicy.Deterministic;

    /// <summary>When every deployment fails, answer from an expired cache entry if one exists.</summary>
    public bool FallbackToCache { get; set; }

    /// <summary>Replace personal data in prompts before they leave for the provider.</summary>
    public bool RedactPrompts { get; set; }

    /// <summary>Shown in model listings.</summary>
    public string? Description { get; set; }
}

/// <summary>Deployments that can stand in for one another, and how to choose among them.</summary>
public sealed class DeploymentGroupOptions
{
    public RoutingStrategy Strategy { get; set; } = RoutingStrategy.Priority;

    /// <summary>Deployment names, in priority order.</summary>
    [Required]
    public List<string> Deployments { get; set; } = [];
}

public enum RoutingStrategy
{
    /// <summary>In the order listed.</summary>
    Priority,

    /// <summary>First pick drawn by <see cref="DeploymentOptions.Weight"/>, the rest in order.</summary>
    Weighted,

    /// <summary>Lowest moving-average latency first; deployments not yet measured go first.</summary>
    LeastLatency,
}

public enum CachePolicy
{
    /// <summary>Only requests whose answer is meant to be repeatable: temperature 0 or a seed.</summary>
    Deterministic,

    /// <summary>Every request, whatever its sampling settings.</summary>
    Always,

    Never,

    /// <summary>
    /// As <see cref="Always"/> for the exact cache, and also answers a question from the stored answer
    /// to an equivalent earlier one (same tenant, alias, system prompt, tools, parameters and earlier
    /// turns; the last user message similar enough by embedding and passing the guards of
    /// <see cref="Caching.SemanticGuard"/>).
    /// </summary>
    Semantic,
}
