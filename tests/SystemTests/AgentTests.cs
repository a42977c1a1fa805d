using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using AspireLlm.ServiceDefaults;
using AspireLlm.Tests.Shared;
using Xunit.Abstractions;

namespace AspireLlm.SystemTests;

/// <summary>
/// Agent tasks through the whole application (two Api and two Worker replicas) with real WebSocket
/// clients: a task resumed on the other Api replica after a disconnect, the same task through REST and
/// SSE, a Worker SIGKILLed under a task, and cancel mid-step.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class AgentTests(AppFixture fixture, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private readonly ToolServer _tools = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        _tools.Dispose();
        return Task.CompletedTask;
    }

    private static object Start(string taskId, params object[] script) => new
    {
        type = "start_task", agent = "assistant", input = "Help me.", task_id = taskId,
        metadata = new Dictionary<string, object> { ["simulator_script"] = script },
    };

    private static string TypeOf(JsonElement item) => item.GetProperty("type").GetString()!;

    [Fact]
    public async Task A_task_resumed_on_the_other_api_replica_gets_its_input_and_completes_and_reads_the_same_over_rest()
    {
        var replicas = await ReplicaAddressesAsync(ResourceNames.Api);
        output.WriteLine("Api replicas: " + string.Join(", ", replicas.Select(r => r.Address)));
        Assert.Equal(2, replicas.Count);

        var taskId = "sys-" + Guid.NewGuid().ToString("N")[..10];
        await using var first = await AgentSocketClient.ConnectAsync(replicas[0].Address, fixture.AdminKey);
        await first.SendAsync(Start(taskId,
            new { thought = "Let me check." },
            new { tool = "http_get", arguments = new { url = _tools.Url("/forecast") } },
            new { tool = "sample_add", arguments = new { a = 2, b = 3 } },
            new { ask = "Which day?" },
            new { answer = "Friday looks dry." }));
        var before = await first.ReceiveUntilAsync(AgentSocketClient.OfType("need_input"), Wait);
        await first.DisposeAsync();

        await using var second = await AgentSocketClient.ConnectAsync(replicas[1].Address, fixture.AdminKey);
        await second.SendAsync(new { type = "resume", task_id = taskId, after_seq = before[^1].GetProperty("seq").GetInt64() });
        await second.SendAsync(new
        {
            type = "provide_input", task_id = taskId, request_id = before[^1].GetProperty("request_id").GetString(), input = "Friday",
        });
        var after = await second.ReceiveUntilAsync(AgentSocketClient.OfType("complete"), Wait);

        var all = before.Concat(after).ToList();
        Assert.Equal(Enumerable.Range(1, all.Count).Select(i => (long)i), all.Select(e => e.GetProperty("seq").GetInt64()));
        Assert.Equal(["task_started", "thought", "action", "tool_result", "action", "tool_result", "need_input", "complete"], all.Select(TypeOf));
        Assert.Equal("Friday looks dry.", all[^1].GetProperty("output").GetString());
        // The AppHost's sample MCP server, as F5 runs it: its tools are the default agent's.
        Assert.Equal(("sample_add", "5", false), (all[4].GetProperty("tool").GetString(), all[5].GetProperty("result").GetString(), all[5].GetProperty("is_error").GetBoolean()));
        Assert.Equal(1, _tools.Hits("/forecast"));

        // The REST face of the same task: the job, and its events as SSE with the same numbers.
        using var http = fixture.CreateApiClient();
        var jobId = before[0].GetProperty("job_id").GetGuid();
        var job = await http.GetFromJsonAsync<JsonElement>($"/v1/jobs/{jobId}");
        Assert.Equal(("agent", "completed"), (job.GetProperty("kind").GetString(), job.GetProperty("status").GetString()));
        Assert.Equal("Friday looks dry.", job.GetProperty("result").GetProperty("output").GetString());
        using var response = await http.GetAsync($"/v1/jobs/{jobId}/events", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        using var timeout = new CancellationTokenSource(Wait);
        var sse = await reader.ReadToEndAsync(timeout.Token);
        Assert.Equal(all.Select(TypeOf), sse.Select(e => e.Type));
        Assert.Equal(all.Select(e => e.GetProperty("seq").GetInt64()), sse.Select(e => e.Id));
    }

    [Fact]
    public async Task A_worker_killed_under_a_task_is_replaced_from_the_checkpoint_and_cancel_stops_a_task_mid_step()
    {
        var taskId = "kill-" + Guid.NewGuid().ToString("N")[..10];
        await using var client = await AgentSocketClient.ConnectAsync(fixture.App.GetEndpoint(ResourceNames.Api), fixture.AdminKey);
        await client.SendAsync(Start(taskId,
            new { tool = "http_get", arguments = new { url = _tools.Url("/one") } },
            new { tool = "http_get", arguments = new { url = _tools.Url("/two?delay_ms=5000") } },
            new { answer = "Two pages." }));
        var before = await client.ReceiveUntilAsync(e => TypeOf(e) == "action" && e.GetProperty("call_id").GetString() == "call_2", Wait);
        await _tools.WaitForAsync("/two", Wait);

        using var http = fixture.CreateApiClient();
        var jobId = before[0].GetProperty("job_id").GetGuid();
        var worker = (await http.GetFromJsonAsync<JsonElement>($"/v1/admin/jobs/{jobId}")).GetProperty("worker").GetString()!;
        var pid = int.Parse(worker[(worker.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        var replica = await ReplicaOfPidAsync(ResourceNames.Worker, pid);
        output.WriteLine($"Killing Worker {worker} (replica {replica})");
        using (var kill = System.Diagnostics.Process.Start("kill", ["-KILL", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill!.WaitForExitAsync();
        }

        try
        {
            var after = await client.ReceiveUntilAsync(AgentSocketClient.OfType("complete"), Wait);
            var all = before.Concat(after).ToList();
            Assert.Equal(Enumerable.Range(1, all.Count).Select(i => (long)i), all.Select(e => e.GetProperty("seq").GetInt64()));
            Assert.Equal(1, _tools.Hits("/one")); // its result was checkpointed: never run again
            var detail = await http.GetFromJsonAsync<JsonElement>($"/v1/admin/jobs/{jobId}");
            Assert.NotEqual(worker, detail.GetProperty("worker").GetString());

            // Cancel mid-step: the other Worker is in a slow tool call when the cancel arrives.
            var slowTask = "cancel-" + Guid.NewGuid().ToString("N")[..10];
            await client.SendAsync(Start(slowTask, new { tool = "http_get", arguments = new { url = _tools.Url("/slow?delay_ms=30000") } }));
            await client.ReceiveUntilAsync(e => TypeOf(e) == "action" && e.GetProperty("task_id").GetString() == slowTask, Wait);
            await _tools.WaitForAsync("/slow", Wait);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await client.SendAsync(new { type = "cancel", task_id = slowTask });
            var ended = await client.ReceiveUntilAsync(e => TypeOf(e) == "error" && e.GetProperty("task_id").GetString() == slowTask, Wait);
            output.WriteLine($"cancel → error event in {clock.ElapsedMilliseconds} ms");
            Assert.Equal("cancelled", ended[^1].GetProperty("code").GetString());
            // The tool call would take 30 s: ending well before it shows the cancel interrupted the step
            // (the service test AgentSessionTests holds it to a second on a machine this test does not load).
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"{clock.ElapsedMilliseconds} ms");
        }
        finally
        {
            // DCP does not restart a replica that died: start it again for the tests that follow.
            if (replica is not null)
            {
                await fixture.App.Services.GetRequiredService<ResourceCommandService>()
                    .ExecuteCommandAsync(replica, KnownResourceCommands.StartCommand, CancellationToken.None);
            }
        }
    }

    [Fact]
    public async Task A_task_started_over_websocket_is_traced_from_its_start_frame_and_the_session_is_no_span()
    {
        var replicas = await ReplicaAddressesAsync(ResourceNames.Api);
        var taskId = "traced-" + Guid.NewGuid().ToString("N")[..10];
        string jobId;
        await using (var client = await AgentSocketClient.ConnectAsync(replicas[0].Address, fixture.AdminKey))
        {
            await client.SendAsync(Start(taskId, new { answer = "Traced." }));
            var events = await client.ReceiveUntilAsync(AgentSocketClient.OfType("complete"), Wait);
            jobId = events.First(e => TypeOf(e) == "task_started").GetProperty("job_id").GetString()!;
        }

        ReceivedSpan? accept = null, frame = null, run = null;
        var deadline = DateTime.UtcNow + Wait;
        while (DateTime.UtcNow < deadline && (frame is null || run is null))
        {
            await Task.Delay(500);
            var spans = fixture.Traces.Spans;
            accept = spans.FirstOrDefault(s => s.Name == "job.accept" && s.Attributes.GetValueOrDefault("aspirellm.job.id") == jobId);
            frame = accept is null ? null : spans.FirstOrDefault(s => s.SpanId == accept.ParentSpanId);
            run = accept is null ? null : spans.FirstOrDefault(s => s.Name == "job.run agent" && s.ParentSpanId == accept.SpanId);
        }

        Assert.NotNull(accept);
        Assert.NotNull(frame);
        Assert.Equal("agent.frame", frame.Name);
        Assert.Equal("start_task", frame.Attributes.GetValueOrDefault("aspirellm.agent.frame_type"));
        Assert.Equal("", frame.ParentSpanId); // a root: the session's upgrade request is not a span
        Assert.NotNull(run);
        // The request's span would carry its path from its start (its name gets the route only as it ends).
        Assert.DoesNotContain(fixture.Traces.Spans, s => s.Service == "api" && s.Attributes.GetValueOrDefault("url.path") == "/v1/agents/ws");
    }

    /// <summary>Each replica of <paramref name="resource"/> with its own address (not the proxy's).</summary>
    private async Task<List<(string Id, Uri Address)>> ReplicaAddressesAsync(string resource)
    {
        var proxy = fixture.App.GetEndpoint(resource);
        var found = new List<(string Id, Uri Address)>();
        foreach (var item in await SnapshotsAsync(resource))
        {
            // Each replica listens on a port of its own (its ASPNETCORE_URLS); the resource's URL is DCP's proxy.
            var urls = item.Snapshot.EnvironmentVariables.FirstOrDefault(variable => variable.Name == "ASPNETCORE_URLS")?.Value ?? "";
            output.WriteLine($"{item.ResourceId}: ASPNETCORE_URLS={urls}");
            var own = urls.Split(';', StringSplitOptions.RemoveEmptyEntries)
                .Select(url => url.Replace("://+", "://localhost", StringComparison.Ordinal).Replace("://*", "://localhost", StringComparison.Ordinal))
                .Select(url => new Uri(url))
                .FirstOrDefault(url => url.Scheme == "http" && url.Port != proxy.Port);
            if (own is not null)
            {
                found.Add((item.ResourceId, own));
            }
        }

        return found;
    }

    private async Task<string?> ReplicaOfPidAsync(string resource, int pid) =>
        (await SnapshotsAsync(resource)).FirstOrDefault(item => item.Snapshot.Properties.Any(property =>
            property.Name.EndsWith(".pid", StringComparison.Ordinal) && Convert.ToString(property.Value, System.Globalization.CultureInfo.InvariantCulture) == pid.ToString(System.Globalization.CultureInfo.InvariantCulture)))?.ResourceId;

    private async Task<List<ResourceEvent>> SnapshotsAsync(string resource)
    {
        var latest = new Dictionary<string, ResourceEvent>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await foreach (var item in fixture.App.Services.GetRequiredService<ResourceNotificationService>().WatchAsync(timeout.Token))
            {
                if (item.Resource.Name == resource)
                {
                    latest[item.ResourceId] = item;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        return [.. latest.Values];
    }

    /// <summary>A loopback server for the agents' http_get: counts each path and can be slow (<c>?delay_ms=</c>).</summary>
    private sealed class ToolServer : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _hits = new();
        private readonly string _base = $"http://127.0.0.1:{FreePort()}";

        public ToolServer()
        {
            _listener.Prefixes.Add(_base + "/");
            _listener.Start();
            _ = Task.Run(ServeAsync);
        }

        public string Url(string pathAndQuery) => _base + pathAndQuery;

        public int Hits(string path) => _hits.GetValueOrDefault(path);

        public async Task WaitForAsync(string path, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (Hits(path) == 0 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }
        }

        private async Task ServeAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception)
                {
                    return;
                }

                _ = Task.Run(async () =>
                {
                    _hits.AddOrUpdate(context.Request.Url!.AbsolutePath, 1, (_, count) => count + 1);
                    if (int.TryParse(context.Request.QueryString["delay_ms"], out var delay))
                    {
                        await Task.Delay(delay);
                    }

                    try
                    {
                        context.Response.ContentType = "text/plain";
                        await context.Response.OutputStream.WriteAsync("sunny"u8.ToArray());
                        context.Response.Close();
                    }
                    catch (Exception)
                    {
                    }
                });
            }
        }

        private static int FreePort()
        {
            using var socket = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
            socket.Start();
            return ((IPEndPoint)socket.LocalEndpoint).Port;
        }

        public void Dispose() => _listener.Close();
    }
}
