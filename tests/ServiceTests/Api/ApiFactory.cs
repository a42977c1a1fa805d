using System.Net.Http.Headers;
using AspireLlm.Api.ApiKeys;
using AspireLlm.Orchestration.Admission;
using AspireLlm.Tests.Shared;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace AspireLlm.ServiceTests.Api;

/// <summary>The real Api (Program.cs as deployed) on a test server, against real Postgres and Redis.</summary>
public sealed class ApiFactory(string databaseConnectionString, string redisConnectionString) : WebApplicationFactory<Program>
{
    public const string AdminKey = "test-admin-key-0123456789abcdef";
    public const string ConversationKey = TestEncryption.Secret;

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
        builder.UseSetting("Conversations:EncryptionKey", ConversationKey);
        foreach (var (name, value) in Settings)
        {
            builder.UseSetting(name, value);
        }
    }

    /// <summary>Extra settings for this instance, e.g. <see cref="WithUpstream"/>.</summary>
    public Dictionary<string, string?> Settings { get; init; } = [];

    /// <summary>
    /// Settings that serve alias "upstream" from an OpenAI-compatible server at <paramref name="endpoint"/>
    /// (a fake provider in tests), beside the simulated "gpt-4o-mini".
    /// </summary>
    public static Dictionary<string, string?> WithUpstream(Uri endpoint) => new()
    {
        ["Orchestration:Deployments:fake-upstream:Provider"] = "openai-compatible",
        ["Orchestration:Deployments:fake-upstream:Model"] = "upstream-model",
        ["Orchestration:Deployments:fake-upstream:Endpoint"] = endpoint.ToString(),
        ["Orchestration:Deployments:fake-upstream:InputPricePerMillion"] = "1",
        ["Orchestration:Deployments:fake-upstream:OutputPricePerMillion"] = "2",
        ["Orchestration:Deployments:fake-upstream:AttemptTimeout"] = "00:00:10",
        ["Orchestration:Models:upstream:Groups:0:Deployments:0"] = "fake-upstream",
        ["Orchestration:Deployments:sim:Provider"] = "simulator",
        ["Orchestration:Deployments:sim:Model"] = "sim-gpt-4o-mini",
        ["Orchestration:Deployments:sim:InputPricePerMillion"] = "0.15",
        ["Orchestration:Deployments:sim:OutputPricePerMillion"] = "0.6",
        ["Orchestration:Models:gpt-4o-mini:Groups:0:Deployments:0"] = "sim",
        ["Orchestration:Resilience:MaxRetries"] = "0",
    };

    /// <summary>A client acting with a new key of <paramref name="tenant"/> carrying <paramref name="limits"/>.</summary>
    public async Task<HttpClient> CreateLimitedClientAsync(string tenant, KeyLimits limits)
    {
        var key = ApiKeyFormat.Generate();
        await Services.GetRequiredService<ApiKeyStore>().EnsureAsync(key, tenant, "limited test key", false, CancellationToken.None, limits);
        return CreateClientWithKey(key);
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
