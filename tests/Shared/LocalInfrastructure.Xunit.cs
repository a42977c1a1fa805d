namespace AspireLlm.Tests.Shared;

/// <summary>As an xunit fixture: started before the collection's first test, stopped after its last.</summary>
public sealed partial class LocalInfrastructure : IAsyncLifetime
{
    Task IAsyncLifetime.InitializeAsync() => StartAsync();

    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();
}
