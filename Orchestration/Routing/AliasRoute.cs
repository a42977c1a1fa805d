using AspireLlm.Orchestration.Resilience;

namespace AspireLlm.Orchestration.Routing;

/// <summary>A model alias resolved: its options and its fallback chain of deployment groups.</summary>
public sealed class AliasRoute(string alias, ModelAliasOptions options, IReadOnlyList<DeploymentGroup> groups)
{
    public string Alias { get; } = alias;

    public ModelAliasOptions Options { get; } = options;

    public IReadOnlyList<DeploymentGroup> Groups { get; } = groups;

    /// <summary>Every deployment of every group, in fallback order; built once, read on every call.</summary>
    public IReadOnlyList<ModelDeployment> Deployments { get; } = [.. groups.SelectMany(group => group.Deployments)];

    /// <summary>The largest context window of its deployments: a longer prompt fits none of them.</summary>
    public int LargestContextWindow
    {
        get
        {
            var largest = 0;
            for (var d = 0; d < Deployments.Count; d++)
            {
                largest = Math.Max(largest, Deployments[d].Options.ContextWindow);
            }

            return largest;
        }
    }

    /// <summary>True when every deployment's circuit is open; <paramref name="retryAfter"/> is when the first reopens.</summary>
    public bool AllOpen(out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.MaxValue;
        // Indexed loops: this runs on every call and must not allocate enumerators.
        for (var g = 0; g < Groups.Count; g++)
        {
            var deployments = Groups[g].Deployments;
            for (var d = 0; d < deployments.Count; d++)
            {
                if (!deployments[d].Breaker.IsOpen(out var remaining))
                {
                    retryAfter = TimeSpan.Zero;
                    return false;
                }

                retryAfter = remaining < retryAfter ? remaining : retryAfter;
            }
        }

        return true;
    }
}
