using AspireLlm.ServiceTests.Api;
using AspireLlm.ServiceTests.Worker;
using AspireLlm.Tests.Shared;

namespace AspireLlm.ServiceTests;

/// <summary>A test that drives the real Api (in-process) and the Worker's job classes over one Postgres and Redis.</summary>
public abstract class ApiAndWorkerTest(LocalInfrastructure infrastructure) : IAsyncLifetime
{
    protected LocalInfrastructure Infrastructure { get; } = infrastructure;

    protected ApiFactory Api { get; } = new(infrastructure);

    protected WorkerHarness Worker { get; private set; } = null!;

    public virtual async Task InitializeAsync() => Worker = await WorkerHarness.CreateAsync(Infrastructure);

    public virtual async Task DisposeAsync()
    {
        await Worker.DisposeAsync();
        await Api.DisposeAsync();
    }
}
