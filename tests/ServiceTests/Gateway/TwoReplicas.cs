using AspireLlm.ServiceTests.Api;
using AspireLlm.Tests.Shared;

namespace AspireLlm.ServiceTests.Gateway;

/// <summary>Two Api hosts on the same Redis and Postgres: what two replicas behind a load balancer share.</summary>
public abstract class TwoReplicas(LocalInfrastructure infrastructure) : IAsyncLifetime
{
    protected LocalInfrastructure Infrastructure { get; } = infrastructure;

    protected ApiFactory ReplicaA { get; } = new(infrastructure);

    protected ApiFactory ReplicaB { get; } = new(infrastructure);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await ReplicaA.DisposeAsync();
        await ReplicaB.DisposeAsync();
    }
}
