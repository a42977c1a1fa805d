using System.Net.Http.Headers;
using AspireLlm.Api.ApiKeys;
using AspireLlm.Tests.Shared;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace AspireLlm.ServiceTests.Api;

/// <summary>The real Api (Program.cs as deployed) on a test server, against real Postgres and Redis.</summary>
public sealed class ApiFactory(string databaseConnectionString, string redisConnectionString) : WebApplicationFactory<Program>
{
    public const string AdminKey = "test-admin-key-0123456789abcdef";

    public ApiFactory(LocalInfrastructure infrastructure)
        : this(infrastructure.DatabaseConnectionString, infrastructure.RedisConnectionString)
    {
    }

    /// <summary>Test requests may be this big; a small limit keeps the 413 test cheap.</summary>
    public const long MaxBodyBytes = 64 * 1024;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.UseSetting("ConnectionStrings:llmdb", databaseConnectionString);
        builder.UseSetting("ConnectionStrings:cache", redisConnectionString);
        builder.UseSetting("Admin:BootstrapKey", AdminKey);
        builder.UseSetting("Api:MaxRequestBodyBytes", MaxBodyBytes.ToString());
        // Tests deliver webhooks to receivers on loopback.
        builder.UseSetting("Webhooks:AllowPrivateNetworks", "true");
    }

    /// <summary>A client acting with a new key of <paramref name="tenant"/>.</summary>
    public async Task<HttpClient> CreateTenantClientAsync(string tenant, bool isAdmin = false)
    {
        var key = ApiKeyFormat.Generate();
        await Services.GetRequiredService<ApiKeyStore>().EnsureAsync(key, tenant, "test key", isAdmin, CancellationToken.None);
        return CreateClientWithKey(key);
    }

    public HttpClient CreateClientWithKey(string key)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }
}
