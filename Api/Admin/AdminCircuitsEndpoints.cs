using AspireLlm.Orchestration.Routing;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AspireLlm.Api.Admin;

/// <summary>One deployment's circuit as this replica sees it (open state is shared by all replicas through Redis).</summary>
public sealed record CircuitView(string Alias, string Deployment, string Provider, string Model, string State, double RetryAfterSeconds, double? LatencyMs);

public static class AdminCircuitsEndpoints
{
    public static RouteGroupBuilder MapAdminCircuits(this RouteGroupBuilder group)
    {
        group.MapGet("/circuits", List).WithName("AdminListCircuits");
        return group;
    }

    internal static Ok<IReadOnlyList<CircuitView>> List(ModelCatalog models)
    {
        var circuits = new List<CircuitView>();
        foreach (var alias in models.Aliases)
        {
            foreach (var deployment in models.GetRoute(alias).Deployments)
            {
                var open = deployment.Breaker.IsOpen(out var retryAfter);
                var latency = deployment.Latency.AverageMs;
                circuits.Add(new CircuitView(
                    alias, deployment.Name, deployment.Options.Provider, deployment.Options.Model, deployment.Breaker.State.ToString().ToLowerInvariant(),
                    open ? Math.Round(retryAfter.TotalSeconds, 1) : 0, double.IsNaN(latency) ? null : Math.Round(latency, 1)));
            }
        }

        return TypedResults.Ok<IReadOnlyList<CircuitView>>(circuits);
    }
}
