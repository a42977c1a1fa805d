using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AspireLlm.Orchestration.Agents;
using AspireLlm.Orchestration.Jobs.Events;
using AspireLlm.Tests.Shared;
using StackExchange.Redis;

// Agent sessions and tasks: memory per idle WebSocket session on one Api, event relay latency from the
// task's event log (where the Worker appends) to a WebSocket client at a fixed rate, and Worker CPU per
// agent step with the simulator at zero latency. Real Postgres, Redis, Api and Worker processes, Release.
var sessions = Argument("--sessions", 1000);
var rate = Argument("--rate", 200);
var seconds = Argument("--duration", 10);
var tasks = Argument("--tasks", 100);
var hold = Argument("--hold", 0); // seconds to keep the idle sessions open after measuring, to attach dotnet-gcdump or dotnet-counters
const int StepsPerTask = 6; // five tool calls and the answer: six model calls
const string AdminKey = "bench-admin-key-0123456789abcdef";
Console.WriteLine($"Agents benchmark: {sessions} idle sessions; relay at {rate} events/s for {seconds} s; {tasks} tasks × {StepsPerTask} steps. " +
                  $"{Environment.ProcessorCount} cores, Release, simulator at zero latency.");

var tools = new HttpListener();
var toolBase = $"http://127.0.0.1:{ServerProcess.FreePort()}";
tools.Prefixes.Add(toolBase + "/");
tools.Start();
_ = Task.Run(async () =>
{
    while (tools.IsListening)
    {
        try
        {
            var context = await tools.GetContextAsync();
            context.Response.ContentType = "text/plain";
            await context.Response.OutputStream.WriteAsync("ok"u8.ToArray());
            context.Response.Close();
        }
        catch (Exception)
        {
            return;
        }
    }
});

var settings = new Dictionary<string, string>
{
    ["Admin:BootstrapKey"] = AdminKey,
    ["Agents:bench:Model"] = "gpt-4o-mini",
    ["Agents:bench:Tools:0"] = "ask_user",
    ["Agents:bench:Tools:1"] = "http_get",
    ["Agents:bench:AllowedHosts:0"] = "127.0.0.1",
    ["Agents:AllowPrivateNetworks"] = "true",
    ["Agents:MaxSessionsPerKey"] = (sessions + 10).ToString(),
    ["Agents:MaxTasksPerKey"] = (tasks + 10).ToString(),
    ["Agents:DetachGraceSeconds"] = "600",
};
await using var infrastructure = new LocalInfrastructure();
await infrastructure.StartAsync();
using var api = ServiceProcess.Start("Api", infrastructure, AspireLlm.Bench.EnvArguments.Read(settings), "Release");
using var worker = ServiceProcess.Start("Worker", infrastructure, settings, "Release");
using var probe = new HttpClient();
using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
await api.WaitHealthyAsync(probe);
await worker.WaitHealthyAsync(probe);
http.BaseAddress = api.BaseAddress;
http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);

// 1. Idle sessions: the Api's resident memory before and after opening them (each session authenticated and leased).
await using (var warm = await AgentSocketClient.ConnectAsync(api.BaseAddress, AdminKey))
{
    await warm.SendAsync(new { type = "ping" });
    await warm.ReceiveAsync(TimeSpan.FromSeconds(10));
}

await Task.Delay(2000);
// Resident memory is read before each induced collection, so both readings hold the garbage of the moment; it also moves
// with what the collector returns to the system, which it does during collections (opening the sessions runs some).
var before = RssKiB(api.Id);
var heapBefore = RetainedHeap.Take(api.Id);
var open = new List<AgentSocketClient>(sessions);
for (var i = 0; i < sessions; i++)
{
    var client = await AgentSocketClient.ConnectAsync(api.BaseAddress, AdminKey);
    // A live client always has a receive pending, which is what answers the Api's protocol pings; without it
    // the Api rightly drops the session after its heartbeat timeout (30 s), and a long --hold would hold nothing.
    _ = client.Socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).AsTask();
    open.Add(client);
}

await Task.Delay(5000);
var after = RssKiB(api.Id);
var heapAfter = RetainedHeap.Take(api.Id);
Console.WriteLine($"Idle sessions: {sessions} open; Api RSS {before / 1024.0:F1} MiB → {after / 1024.0:F1} MiB: " +
                  $"{(after - before) / (double)sessions:F1} KiB per session, with what opening them left to collect");
Console.WriteLine($"Idle sessions: managed heap after a full collection {heapBefore.HeapSize / 1048576.0:F1} MiB → {heapAfter.HeapSize / 1048576.0:F1} MiB: " +
                  $"{(heapAfter.HeapSize - heapBefore.HeapSize) / 1024.0 / sessions:F1} KiB per session of heap (live objects and free space)");
Console.WriteLine($"Idle sessions: live objects after that collection {heapBefore.LiveObjects / 1048576.0:F1} MiB → {heapAfter.LiveObjects / 1048576.0:F1} MiB: " +
                  $"{(heapAfter.LiveObjects - heapBefore.LiveObjects) / 1024.0 / sessions:F1} KiB per session kept (the heap less the free space the collection left between objects; target ≤ 20)");
if (hold > 0)
{
    Console.WriteLine($"Holding the sessions open for {hold} s: Api process {api.Id}");
    await Task.Delay(TimeSpan.FromSeconds(hold));
}

foreach (var client in open)
{
    await client.DisposeAsync();
}

// 2. Relay latency: a task waiting for input is watched over the socket while events are appended to its log at a fixed rate.
await using var socket = await AgentSocketClient.ConnectAsync(api.BaseAddress, AdminKey);
await socket.SendAsync(new
{
    type = "start_task", agent = "bench", input = "wait", task_id = "relay-bench",
    metadata = new Dictionary<string, object> { ["simulator_script"] = new object[] { new { ask = "Ready?" } } },
});
var started = await socket.ReceiveUntilAsync(item => item.GetProperty("type").GetString() == "need_input", TimeSpan.FromSeconds(30));
var jobId = started[0].GetProperty("job_id").GetGuid();
var redis = await ConnectionMultiplexer.ConnectAsync(infrastructure.RedisConnectionString);
var log = new JobEventLog(redis, TestEncryption.Cipher);
var latencies = new List<double>();
var total = rate * seconds;
var receiver = Task.Run(async () =>
{
    while (latencies.Count < total)
    {
        var item = await socket.ReceiveAsync(TimeSpan.FromSeconds(30));
        if (item is { } received && received.GetProperty("type").GetString() == "thought")
        {
            latencies.Add(Stopwatch.GetElapsedTime(long.Parse(received.GetProperty("text").GetString()!)).TotalMilliseconds);
        }
    }
});
var clock = Stopwatch.StartNew();
for (var i = 0; i < total; i++)
{
    var due = TimeSpan.FromSeconds(i / (double)rate);
    if (clock.Elapsed < due)
    {
        await Task.Delay(due - clock.Elapsed);
    }

    var thought = new AgentEvent(AgentEvent.Thought, "relay-bench", DateTimeOffset.UtcNow) { Text = Stopwatch.GetTimestamp().ToString() };
    _ = log.AppendAsync(jobId, thought.ToUtf8());
}

await receiver.WaitAsync(TimeSpan.FromSeconds(60));
latencies.Sort();
Console.WriteLine($"Relay, log → Api → WebSocket client, {total} events at {rate}/s: p50 {Percentile(latencies, 0.50):F2} ms, " +
                  $"p99 {Percentile(latencies, 0.99):F2} ms, max {latencies[^1]:F2} ms (target p99 ≤ 10)");
await socket.SendAsync(new { type = "cancel", task_id = "relay-bench" });

// 3. Worker CPU per agent step: tasks of five http_get calls and an answer, through the REST face.
object[] script = [.. Enumerable.Range(0, StepsPerTask - 1).Select(i => (object)new { tool = "http_get", arguments = new { url = $"{toolBase}/page{i}" } }), new { answer = "done" }];
var cpuBefore = worker.CpuTime();
var run = Stopwatch.StartNew();
var ids = new List<Guid>();
for (var i = 0; i < tasks; i++)
{
    using var response = await http.PostAsJsonAsync("/v1/jobs", new
    {
        kind = "agent",
        input = new { agent = "bench", input = "go", metadata = new Dictionary<string, object> { ["simulator_script"] = script } },
    });
    ids.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid());
}

foreach (var id in ids)
{
    while ((await http.GetFromJsonAsync<JsonElement>($"/v1/jobs/{id}")).GetProperty("status").GetString() is "pending" or "processing")
    {
        await Task.Delay(100);
    }
}

var cpu = worker.CpuTime() - cpuBefore;
Console.WriteLine($"Worker: {tasks} tasks × {StepsPerTask} steps in {run.Elapsed.TotalSeconds:F1} s; CPU {cpu.TotalSeconds:F2} s: " +
                  $"{cpu.TotalMilliseconds * 1000 / (tasks * StepsPerTask):F0} µs per step (a model call, its checkpoint and events, and a tool call), peak RSS {worker.PeakRssMiB():F0} MiB");
tools.Stop();
return 0;

static long RssKiB(int pid) =>
    long.Parse(File.ReadAllLines($"/proc/{pid}/status").First(line => line.StartsWith("VmRSS:", StringComparison.Ordinal))
        .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);

static double Percentile(List<double> sorted, double p) => sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)(p * sorted.Count))];

static int Argument(string name, int fallback)
{
    var args = Environment.GetCommandLineArgs();
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1]) : fallback;
}
