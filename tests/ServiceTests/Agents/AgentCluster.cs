using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AspireLlm.Orchestration.Jobs;
using AspireLlm.Tests.Shared;
using Npgsql;

namespace AspireLlm.ServiceTests.Agents;

/// <summary>
/// Agent tasks end to end on real processes and sockets: two Api processes (a session can resume on
/// the other), Worker processes started by the tests (a test may kill one), their own Postgres and
/// Redis (Workers take every queued job), a loopback tool server for <c>http_get</c> that counts
/// each path it serves and can be slow (<c>?delay_ms=</c>), and our sample MCP server (its own process,
/// registered as <c>Agents:McpServers:sample</c>, its tools allowed to <c>tester</c> as <c>sample_*</c>).
/// </summary>
public sealed class AgentCluster : IAsyncLifetime
{
    public const string AdminKey = "agents-admin-key-0123456789abcdef";

    public static readonly Dictionary<string, string> Settings = new()
    {
        ["Admin:BootstrapKey"] = AdminKey,
        ["Agents:tester:Model"] = "gpt-4o-mini",
        ["Agents:tester:Instructions"] = "You test things.",
        ["Agents:tester:Tools:0"] = "ask_user",
        ["Agents:tester:Tools:1"] = "http_get",
        ["Agents:tester:AllowedHosts:0"] = "127.0.0.1",
        ["Agents:tester:DeadlineSeconds"] = "60",
        ["Agents:AllowPrivateNetworks"] = "true",
        ["Agents:DetachGraceSeconds"] = "3",
        ["Agents:MaxSessionsPerKey"] = "4",
        ["Worker:InvisibilityTimeoutSeconds"] = "8",
        ["Worker:DispatchSweepSeconds"] = "1",
    };

    private readonly LocalInfrastructure _infrastructure = new();
    private readonly List<ServiceProcess> _workers = [];
    private readonly Dictionary<string, string> _settings = new(Settings) { ["Agents:tester:Tools:2"] = "sample_*" };
    private ServiceProcess? _mcp;
    private HttpListener? _tools;
    private Task? _toolLoop;

    public ServiceProcess Api1 { get; private set; } = null!;

    public ServiceProcess Api2 { get; private set; } = null!;

    public LocalInfrastructure Infrastructure => _infrastructure;

    public string ToolBase { get; private set; } = "";

    /// <summary>How many times each tool-server path was requested.</summary>
    public ConcurrentDictionary<string, int> ToolHits { get; } = new();

    public async Task InitializeAsync()
    {
        await _infrastructure.StartAsync();
        using var http = new HttpClient();
        _mcp = ServiceProcess.Start("McpSample", _infrastructure, new Dictionary<string, string>());
        await _mcp.WaitHealthyAsync(http);
        _settings["Agents:McpServers:sample:Endpoint"] = new Uri(_mcp.BaseAddress, "/mcp").ToString();
        Api1 = ServiceProcess.Start("Api", _infrastructure, _settings);
        Api2 = ServiceProcess.Start("Api", _infrastructure, _settings);
        await Task.WhenAll(Api1.WaitHealthyAsync(http), Api2.WaitHealthyAsync(http));
        StartWorker();
        StartTools();
    }

    public ServiceProcess StartWorker(Dictionary<string, string>? extra = null)
    {
        var settings = new Dictionary<string, string>(_settings);
        foreach (var (name, value) in extra ?? [])
        {
            settings[name] = value;
        }

        var worker = ServiceProcess.Start("Worker", _infrastructure, settings);
        lock (_workers)
        {
            _workers.Add(worker);
        }

        return worker;
    }

    public async Task<string> CreateKeyAsync(string tenant, object? limits = null) => (await CreateKeyWithIdAsync(tenant, limits)).Key;

    public async Task<(Guid Id, string Key)> CreateKeyWithIdAsync(string tenant, object? limits = null)
    {
        using var admin = Client(Api1, AdminKey);
        var body = JsonSerializer.SerializeToElement(limits ?? new { });
        var request = new Dictionary<string, object?> { ["tenant_id"] = tenant, ["name"] = "agent test" };
        foreach (var property in body.EnumerateObject())
        {
            request[property.Name] = property.Value;
        }

        using var response = await admin.PostAsJsonAsync("/v1/admin/keys", request);
        response.EnsureSuccessStatusCode();
        using var created = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (created.RootElement.GetProperty("details").GetProperty("id").GetGuid(), created.RootElement.GetProperty("key").GetString()!);
    }

    public async Task RevokeKeyAsync(Guid id)
    {
        using var admin = Client(Api1, AdminKey);
        using var response = await admin.PostAsync($"/v1/admin/keys/{id}/revoke", null);
        Assert.Equal(System.Net.HttpStatusCode.NoContent, response.StatusCode);
    }

    public static HttpClient Client(ServiceProcess api, string key)
    {
        var client = new HttpClient { BaseAddress = api.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    public async Task<JobRecord> JobAsync(Guid id)
    {
        await using var dataSource = NpgsqlDataSource.Create(_infrastructure.DatabaseConnectionString);
        return (await new JobStore(dataSource, TestEncryption.Cipher).GetAsync(id, CancellationToken.None))!;
    }

    public async Task<long> CountAsync(string sql, object parameter)
    {
        await using var dataSource = NpgsqlDataSource.Create(_infrastructure.DatabaseConnectionString);
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.AddWithValue(parameter);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public async Task<JobRecord> WaitForJobAsync(Guid id, Func<JobRecord, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var job = await JobAsync(id);
            if (condition(job))
            {
                return job;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Job {id} is {job.Status} ({job.CurrentStep}); the expected state was not reached.");
            }

            await Task.Delay(100);
        }
    }

    private void StartTools()
    {
        var port = ServerProcess.FreePort();
        ToolBase = $"http://127.0.0.1:{port}";
        _tools = new HttpListener();
        _tools.Prefixes.Add(ToolBase + "/");
        _tools.Start();
        _toolLoop = Task.Run(async () =>
        {
            while (_tools.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _tools.GetContextAsync();
                }
                catch (Exception)
                {
                    return;
                }

                _ = Task.Run(async () =>
                {
                    var path = context.Request.Url!.AbsolutePath;
                    ToolHits.AddOrUpdate(path, 1, (_, count) => count + 1);
                    if (int.TryParse(context.Request.QueryString["delay_ms"], out var delay))
                    {
                        await Task.Delay(delay);
                    }

                    var body = System.Text.Encoding.UTF8.GetBytes($"page {path}");
                    context.Response.ContentType = "text/plain";
                    try
                    {
                        await context.Response.OutputStream.WriteAsync(body);
                        context.Response.Close();
                    }
                    catch (Exception)
                    {
                        // The caller went away (cancelled, or its Worker was killed).
                    }
                });
            }
        });
    }

    public async Task DisposeAsync()
    {
        _tools?.Stop();
        await (_toolLoop ?? Task.CompletedTask);
        lock (_workers)
        {
            foreach (var worker in _workers)
            {
                worker.Dispose();
            }
        }

        Api1?.Dispose();
        Api2?.Dispose();
        _mcp?.Dispose();
        await _infrastructure.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class AgentCollection : ICollectionFixture<AgentCluster>
{
    public const string Name = "agents";
}
