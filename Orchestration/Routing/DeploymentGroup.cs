using AspireLlm.Orchestration.Resilience;

namespace AspireLlm.Orchestration.Routing;

/// <summary>Deployments that stand in for one another, and the order a strategy tries them in.</summary>
public sealed class DeploymentGroup(RoutingStrategy strategy, ModelDeployment[] deployments)
{
    public RoutingStrategy Strategy { get; } = strategy;

    public IReadOnlyList<ModelDeployment> Deployments => deployments;

    /// <summary>This call's order. The priority order is the configured array itself: no allocation.</summary>
    public ModelDeployment[] InOrder() => deployments.Length < 2 ? deployments : Strategy switch
    {
        RoutingStrategy.Weighted => Weighted(),
        RoutingStrategy.LeastLatency => [.. deployments.OrderBy(d => double.IsNaN(d.Latency.AverageMs) ? -1 : d.Latency.AverageMs)],
        _ => deployments,
    };

    private ModelDeployment[] Weighted()
    {
        // The first pick is drawn by weight; if it fails, the rest follow in priority order.
        var total = deployments.Sum(d => d.Options.Weight);
        var draw = Random.Shared.Next(total);
        var first = 0;
        while (draw >= deployments[first].Options.Weight)
        {
            draw -= deployments[first].Options.Weight;
            first++;
        }

        return [deployments[first], .. deployments.Where((_, index) => index != first)];
    }
}
