using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AspireLlm.GatewayBench;
using AspireLlm.Tests.Shared;
using AspireLlm.Tests.Shared.FakeProviders;

// The gateway's own cost: the same requests sent straight to a zero-latency OpenAI-compatible mock
// and then through the Api (pinned to one core) with auth, rate limits and the cache lookup on, in
// the same run, at 1, 16 and 64 connections (wrk). Plus time to first byte of a stream, both ways.
var duration = TimeSpan.FromSeconds(Argument("--duration", 10));
const string AdminKey = "bench-admin-key-0123456789abcdef";
Console.WriteLine($"Gateway benchmark: wrk {duration.TotalSeconds:F0} s per row; Api pinned to core 1, everything else to core 0; Release.");

await using var infrastructure = new LocalInfrastructure();
await infrastructure.StartAsync();
await using var upstream = await FakeProviderServer.StartAsync();
upstream.Default = FakeReply.Text("The quarterly report shows steady growth.", promptTokens: 20, completionTokens: 8);

var apiSettings = new Dictionary<string, string>
{
    ["Admin:BootstrapKey"] = AdminKey,
    ["Orchestration:Deployments:mock:Provider"] = "openai-compatible",
    ["Orchestration:Deployments:mock:Model"] = "mock-model",
    ["Orchestration:Deployments:mock:Endpoint"] = upstream.OpenAiEndpoint.ToString(),
    ["Orchestration:Deployments:mock:InputPricePerMillion"] = "0.15",
    ["Orchestration:Deployments:mock:OutputPricePerMillion"] = "0.6",
    ["Orchestration:Models:mock:Groups:0:Deployments:0"] = "mock",
};

// --env NAME=VALUE (repeatable): runtime or app settings for the Api, to compare configurations in one go.
var commandLine = Environment.GetCommandLineArgs();
for (var i = 0; i < commandLine.Length - 1; i++)
{
    if (commandLine[i] == "--env" && commandLine[i + 1].Split('=', 2) is [var name, var value])
    {
        apiSettings[name] = value;
    }
}

using var api = ServiceProcess.Start("Api", infrastructure, apiSettings, "Release", pinToCores: "1");
using var http = new HttpClient();
await api.WaitHealthyAsync(http);

// A key with limits that are checked on every request but never reached.
http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
var created = await (await http.PostAsJsonAsync(new Uri(api.BaseAddress, "/v1/admin/keys"), new
{
    tenant_id = "bench", name = "bench", requests_per_minute = 100_000_000, tokens_per_minute = 2_000_000_000, daily_cost_budget = 1_000_000m,
})).Content.ReadFromJsonAsync<JsonElement>();
var key = created.GetProperty("key").GetString()!;

// Each request has its own seed: deterministic, so the cache is looked up (and stored), and always a miss.
var script = Path.Combine(Path.GetTempPath(), "aspirellm-gateway-bench.lua");
await File.WriteAllTextAsync(script, $$"""
    counter = 0
    request = function()
      counter = counter + 1
      local body = '{"model":"mock","messages":[{"role":"user","content":"Summarise the quarterly report."}],"seed":' .. counter .. ',"max_tokens":64}'
      return wrk.format("POST", nil, {["Content-Type"] = "application/json", ["Authorization"] = "Bearer {{key}}"}, body)
    end
    """);

// The JIT tiers hot code up in the background; on one busy core that takes over two minutes (measured:
// JIT still compiling ~200 methods/s at 80 s, quiet at 150 s), and a
// measurement before it ends mostly measures unoptimised code. One long warm-up first, then a short one per row.
var warmUp = TimeSpan.FromSeconds(Argument("--warmup", 150));
Console.WriteLine($"warming up for {warmUp.TotalSeconds:F0} s");
await Wrk.RunAsync(new Uri(api.BaseAddress, "/v1/chat/completions"), 16, warmUp, script);

var rows = new List<string>();
var connectionCounts = Argument("--connections", 0) is > 0 and var only ? new[] { only } : new[] { 1, 16, 64 };
foreach (var connections in connectionCounts)
{
    await Wrk.RunAsync(new Uri(api.BaseAddress, "/v1/chat/completions"), connections, TimeSpan.FromSeconds(3), script); // warm-up
    var direct = await Wrk.RunAsync(new Uri(upstream.OpenAiEndpoint, "chat/completions"), connections, duration, script);
    var cpuBefore = api.CpuTime();
    var gateway = await Wrk.RunAsync(new Uri(api.BaseAddress, "/v1/chat/completions"), connections, duration, script);
    var cpuPerRequest = (api.CpuTime() - cpuBefore).TotalMicroseconds / Math.Max(1, gateway.Requests);
    rows.Add($"| {connections} | {direct.RequestsPerSecond:F0} | {direct.P50Ms:F2} / {direct.P99Ms:F2} | {gateway.RequestsPerSecond:F0} | " +
             $"{gateway.P50Ms:F2} / {gateway.P99Ms:F2} | {gateway.P50Ms - direct.P50Ms:F2} | {cpuPerRequest:F0} | {gateway.Errors + direct.Errors} |");
}

var ttfbDirect = await TimeToFirstByteAsync(new Uri(upstream.OpenAiEndpoint, "chat/completions"), key);
var ttfbGateway = await TimeToFirstByteAsync(new Uri(api.BaseAddress, "/v1/chat/completions"), key);

Console.WriteLine();
Console.WriteLine("| connections | mock req/s | mock p50 / p99 ms | gateway req/s | gateway p50 / p99 ms | added p50 ms | Api CPU µs/request | errors |");
Console.WriteLine("|---|---|---|---|---|---|---|---|");
rows.ForEach(Console.WriteLine);
Console.WriteLine();
Console.WriteLine($"streaming time to first byte, p50 of 200 sequential: mock {ttfbDirect:F2} ms, gateway {ttfbGateway:F2} ms, added {ttfbGateway - ttfbDirect:F2} ms");
Console.WriteLine($"Api peak RSS: {api.PeakRssMiB():F0} MiB");
Console.WriteLine("targets: Api CPU ≤ 150 µs/request at 16 connections; added p50 ≤ 0.5 ms at 1 connection; added TTFB ≤ 1 ms");

static async Task<double> TimeToFirstByteAsync(Uri url, string key)
{
    using var client = new HttpClient();
    client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
    var samples = new List<double>();
    for (var i = 0; i < 250; i++)
    {
        var body = $$"""{"model":"mock","messages":[{"role":"user","content":"Stream a summary."}],"stream":true,"seed":{{i + 1_000_000}}}""";
        var started = Stopwatch.GetTimestamp();
        using var response = await client.SendAsync(
            new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") },
            HttpCompletionOption.ResponseHeadersRead);
        await using var stream = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[1];
        await stream.ReadAtLeastAsync(buffer, 1);
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        await stream.CopyToAsync(Stream.Null);
        if (i >= 50)
        {
            samples.Add(elapsed); // the first 50 warm up
        }
    }

    samples.Sort();
    return samples[samples.Count / 2];
}

static int Argument(string name, int fallback)
{
    var args = Environment.GetCommandLineArgs();
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], System.Globalization.CultureInfo.InvariantCulture) : fallback;
}
