using AspireLlm.Api.ApiKeys;
using AspireLlm.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AspireLlm.ServiceTests.Api;

/// <summary>What the Api's host starts: no Data Protection key ring, which nothing in the Api uses.</summary>
[Collection(ServiceCollection.Name)]
public sealed class HostedServicesTests(LocalInfrastructure infrastructure) : IAsyncLifetime
{
    private readonly ApiFactory _api = new(infrastructure);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public void The_host_loads_no_data_protection_key_ring()
    {
        var started = _api.Services.GetServices<IHostedService>().Select(service => service.GetType().FullName).ToList();

        Assert.Contains(typeof(KeyCacheEpoch).FullName, started); // the Api's own, so this is the real host's list
        Assert.DoesNotContain("Microsoft.AspNetCore.DataProtection.Internal.DataProtectionHostedService", started);
    }
}
