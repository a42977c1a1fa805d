using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AspireLlm.Tests.Shared;

namespace AspireLlm.ServiceTests.Hostile;

/// <summary>
/// The real Api, as built, in a process of its own (Kestrel, real sockets) over its own Postgres and
/// Redis, with an admin key and a tenant key: what a hostile client on the network meets.
/// </summary>
public sealed class HostileApi : IAsyncLifetime
{
    public const string AdminKey = "hostile-admin-key-0123456789abcdef";
    public const long MaxBodyBytes = 1024 * 1024;

    /// <summary>Short Kestrel timeouts, so that slow-client tests end in seconds (the defaults are longer, not different).</summary>
    public static readonly Dictionary<string, string> Settings = new()
    {
        ["Admin:BootstrapKey"] = AdminKey,
        ["Conversations:EncryptionKey"] = "hostile-conversation-key-0123456789abcdef0123",
        ["Api:MaxRequestBodyBytes"] = MaxBodyBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Api:RequestHeadersTimeoutSeconds"] = "2",
        ["Api:MinRequestBodyGraceSeconds"] = "2",
        // A redacting alias, so that the redactor meets hostile text too.
        ["Orchestration:Deployments:sim:Provider"] = "simulator",
        ["Orchestration:Deployments:sim:Model"] = "sim",
        ["Orchestration:Models:gpt-4o-mini:Groups:0:Deployments:0"] = "sim",
        ["Orchestration:Models:redacted:Groups:0:Deployments:0"] = "sim",
        ["Orchestration:Models:redacted:RedactPrompts"] = "true",
    };

    private readonly LocalInfrastructure _infrastructure = new();
    private readonly List<string> _healthProblems = [];
    private readonly CancellationTokenSource _stop = new();
    private ServiceProcess? _api;
    private Task? _healthWatch;

    public Uri BaseAddress => _api!.BaseAddress;

    public ServiceProcess Process => _api!;

    public string TenantKey { get; private set; } = "";

    public string OtherTenantKey { get; private set; } = "";

    /// <summary>A conversation of the tenant key's, and the id of that key: for routes that need an id that exists.</summary>
    public string ConversationId { get; private set; } = "";

    public string TenantKeyId { get; private set; } = "";

    /// <summary>The path with the fixture's ids in place of <c>{conversation}</c> and <c>{key}</c>.</summary>
    public string Resolve(string path) =>
        path.Replace("{conversation}", ConversationId, StringComparison.Ordinal).Replace("{key}", TenantKeyId, StringComparison.Ordinal);

    public async Task InitializeAsync()
    {
        await _infrastructure.StartAsync();
        _api = ServiceProcess.Start("Api", _infrastructure, Settings);
        using var http = new HttpClient();
        await _api.WaitHealthyAsync(http);
        (TenantKey, TenantKeyId) = await CreateKeyAsync("hostile-tenant");
        (OtherTenantKey, _) = await CreateKeyAsync("other-tenant");
        using (var tenant = Client(TenantKey))
        using (var conversation = await tenant.PostAsJsonAsync("/v1/conversations", new { model = "gpt-4o-mini" }))
        {
            ConversationId = JsonDocument.Parse(await conversation.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
        }

        _healthWatch = WatchHealthAsync(_stop.Token);
    }

    /// <summary>Every time <c>/health</c> was not a 200 while the hostile tests ran (it is asked every 200 ms).</summary>
    public IReadOnlyList<string> HealthProblems
    {
        get
        {
            lock (_healthProblems)
            {
                return [.. _healthProblems];
            }
        }
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        await (_healthWatch ?? Task.CompletedTask);
        _api?.Dispose();
        await _infrastructure.DisposeAsync();
    }

    /// <summary>A client for <paramref name="key"/> (none when null), with a bound on every answer.</summary>
    public HttpClient Client(string? key, TimeSpan? timeout = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = timeout ?? TimeSpan.FromSeconds(15) };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return client;
    }

    private async Task WatchHealthAsync(CancellationToken stop)
    {
        using var http = Client(null, TimeSpan.FromSeconds(5));
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                var answer = await HostileRequests.SendAsync(http, HttpMethod.Get, "/health", null);
                if (answer.Status != System.Net.HttpStatusCode.OK)
                {
                    lock (_healthProblems)
                    {
                        _healthProblems.Add($"{DateTime.UtcNow:HH:mm:ss.fff} /health answered {(int)answer.Status} after {answer.Elapsed.TotalMilliseconds:F0} ms");
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task<(string Key, string Id)> CreateKeyAsync(string tenant)
    {
        using var admin = Client(AdminKey);
        using var response = await admin.PostAsJsonAsync("/v1/admin/keys", new { tenant_id = tenant, name = "hostile test" });
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (body.RootElement.GetProperty("key").GetString()!, body.RootElement.GetProperty("details").GetProperty("id").GetString()!);
    }
}

[CollectionDefinition(Name)]
public sealed class HostileCollection : ICollectionFixture<HostileApi>
{
    public const string Name = "hostile";
}
