using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AspireLlm.Tests.Shared;

namespace AspireLlm.GatewayBench;

/// <summary>How the Api under test is configured and started: two aliases, one per upstream, and a key with limits.</summary>
internal sealed class GatewayUnderTest(LocalInfrastructure infrastructure, Dictionary<string, string> extraSettings, Uri fakeEndpoint, Uri externalEndpoint)
{
    public const string FakeAlias = "mock";
    public const string ExternalAlias = "mock-ext";
    private const string AdminKey = "bench-admin-key-0123456789abcdef";

    private readonly Dictionary<ServiceProcess, string> _keys = [];

    /// <summary>When the last Api was started, for the warm-up curve's clock.</summary>
    public DateTime StartedAt { get; private set; }

    /// <param name="extra">Settings over the run's own, for the configuration compared against (<c>--versus</c>).</param>
    /// <param name="buildDirectory">Another build of the Api to start instead of this checkout's (<c>--versus-build</c>).</param>
    public ServiceProcess StartApi(IReadOnlyDictionary<string, string>? extra = null, string? buildDirectory = null)
    {
        var settings = new Dictionary<string, string>
        {
            ["Admin:BootstrapKey"] = AdminKey,
            ["Orchestration:Deployments:mock:Provider"] = "openai-compatible",
            ["Orchestration:Deployments:mock:Model"] = "mock-model",
            ["Orchestration:Deployments:mock:Endpoint"] = fakeEndpoint.ToString(),
            ["Orchestration:Deployments:mock:InputPricePerMillion"] = "0.15",
            ["Orchestration:Deployments:mock:OutputPricePerMillion"] = "0.6",
            ["Orchestration:Models:mock:Groups:0:Deployments:0"] = "mock",
            ["Orchestration:Deployments:mock-ext:Provider"] = "openai-compatible",
            ["Orchestration:Deployments:mock-ext:Model"] = "mock-model",
            ["Orchestration:Deployments:mock-ext:Endpoint"] = externalEndpoint.ToString(),
            ["Orchestration:Deployments:mock-ext:InputPricePerMillion"] = "0.15",
            ["Orchestration:Deployments:mock-ext:OutputPricePerMillion"] = "0.6",
            ["Orchestration:Models:mock-ext:Groups:0:Deployments:0"] = "mock-ext",
            // Embeddings from the provider, as a deployment with a provider key has them: without this the
            // Api would load the local embedding model (no key) and carry its ~150 MiB through the run.
            ["Orchestration:EmbeddingModels:text-embedding-3-small:Deployments:0"] = "mock-ext",
        };
        foreach (var (name, value) in extraSettings.Concat(extra ?? new Dictionary<string, string>()))
        {
            settings[name] = value;
        }

        StartedAt = DateTime.UtcNow;
        return ServiceProcess.Start("Api", infrastructure, settings, "Release", pinToCores: "1", buildDirectory: buildDirectory);
    }

    public Uri ChatUrl(ServiceProcess api) => new(api.BaseAddress, "/v1/chat/completions");

    /// <summary>A key with limits that are checked on every request but never reached (made once per Api, when it is healthy).</summary>
    public async Task<string> KeyAsync(ServiceProcess api)
    {
        if (_keys.TryGetValue(api, out var known))
        {
            return known;
        }

        using var http = new HttpClient();
        await api.WaitHealthyAsync(http);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        var created = await (await http.PostAsJsonAsync(new Uri(api.BaseAddress, "/v1/admin/keys"), new
        {
            tenant_id = "bench", name = "bench", requests_per_minute = 100_000_000, tokens_per_minute = 2_000_000_000, daily_cost_budget = 1_000_000m,
        })).Content.ReadFromJsonAsync<JsonElement>();
        return _keys[api] = created.GetProperty("key").GetString()!;
    }
}

/// <summary>Where the repository is, found from the running program.</summary>
internal static class Repository
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "AspireLlm.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Run from inside the repository.");
    }
}
