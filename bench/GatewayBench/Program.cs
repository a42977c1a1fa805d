using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using AspireLlm.Bench;
using AspireLlm.GatewayBench;
using AspireLlm.Tests.Shared;
using AspireLlm.Tests.Shared.FakeProviders;

// The gateway's own cost, measured the way production looks and the way our own fake looks:
//  - upstreams: the mock provider in its own process (bench/workload, a 433-byte answer with usage)
//    with the shared typical request (system + user message, not deterministic), and the in-process
//    fake provider of the tests (the figure earlier notes quoted);
//  - a warm-up curve: a fresh Api under load, CPU per request in 10 s windows from its start;
//  - the steady table (1, 16, 64 connections), the same requests straight at each upstream and through
//    the Api, in one run; exact-cache hits; streaming time to first byte; peak RSS.
// The Api is pinned to core 1; everything else (upstreams, wrk, Redis, Postgres, this driver) to core 0.
var duration = TimeSpan.FromSeconds(Argument("--duration", 10));
var curveLength = TimeSpan.FromSeconds(Argument("--curve", 180));
var upstreams = Option("--upstream", "both");
var apiSettings = EnvArguments.Read();

Console.WriteLine($"Gateway benchmark: wrk {duration.TotalSeconds:F0} s per row, warm-up curve {curveLength.TotalSeconds:F0} s; Api pinned to core 1, everything else to core 0; Release." +
                  (apiSettings.Count > 0 ? $" Api settings: {string.Join(", ", apiSettings.Select(pair => $"{pair.Key}={pair.Value}"))}" : ""));

await using var infrastructure = new LocalInfrastructure();
await infrastructure.StartAsync();
await using var fake = await FakeProviderServer.StartAsync();
fake.Default = FakeReply.Text("The quarterly report shows steady growth.", promptTokens: 20, completionTokens: 8);
using var external = await ExternalUpstream.StartAsync(Repository.Root, cores: "0");

var bench = new GatewayUnderTest(infrastructure, apiSettings, fake.OpenAiEndpoint, external.OpenAiEndpoint);
var sharedRequest = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(Repository.Root, "bench", "workload", "chat-request.json")))!.AsObject();
var modes = new List<Mode>();
if (upstreams is "both" or "external")
{
    modes.Add(new Mode("external mock", GatewayUnderTest.ExternalAlias, new Uri(external.OpenAiEndpoint, "chat/completions")));
}

if (upstreams is "both" or "fake")
{
    modes.Add(new Mode("in-process fake", GatewayUnderTest.FakeAlias, new Uri(fake.OpenAiEndpoint, "chat/completions")));
}

var versus = EnvArguments.Read(name: "--versus");
var versusBuild = Option("--versus-build", null) is { } directory ? Path.GetFullPath(directory) : null;
if (versus.Count > 0 || versusBuild is not null)
{
    // --versus NAME=VALUE: the Api as configured against the same with these settings, loaded in turns;
    // --versus-build DIR: against another build of it (a copy of Api/bin/Release/net10.0 made at another commit).
    await Comparison.RunAsync(bench, versus, versusBuild, sharedRequest, modes[0].Alias, Argument("--rounds", 6));
    return;
}

// The warm-up curve: a replica just started (by an autoscaler, a rollout) serves at once, under load.
using var api = bench.StartApi();
var curve = await WarmUpCurve.MeasureAsync(api, bench, Scripts.Chat(sharedRequest, modes[0].Alias, await bench.KeyAsync(api)), curveLength);

var key = await bench.KeyAsync(api);
if (Argument("--trace", 0) is > 0 and var traceSeconds)
{
    // --trace N: after the warm-up, a perf profile of the Api over N s of load (and another of exact-cache hits, below).
    var file = await Profiler.TraceAsync(api, bench.ChatUrl(api), Scripts.Chat(sharedRequest, modes[0].Alias, key), TimeSpan.FromSeconds(traceSeconds));
    Console.WriteLine($"CPU trace of the Api under load: {file}");
}

var rows = new List<string>();
foreach (var mode in modes)
{
    var script = Scripts.Chat(sharedRequest, mode.Alias, key);
    foreach (var connections in Argument("--connections", 0) is > 0 and var only ? new[] { only } : new[] { 1, 16, 64 })
    {
        await Wrk.RunAsync(bench.ChatUrl(api), connections, TimeSpan.FromSeconds(3), script); // settle
        var direct = await Wrk.RunAsync(mode.DirectUrl, connections, duration, script);
        var cpuBefore = api.CpuTime();
        var switchesBefore = api.ContextSwitches();
        var gateway = await Wrk.RunAsync(bench.ChatUrl(api), connections, duration, script);
        var cpuPerRequest = (api.CpuTime() - cpuBefore).TotalMicroseconds / Math.Max(1, gateway.Requests);
        var switchesPerRequest = api.ContextSwitchesSince(switchesBefore) / (double)Math.Max(1, gateway.Requests);
        rows.Add($"| {mode.Name} | {connections} | {direct.RequestsPerSecond:F0} | {direct.P50Ms:F2} / {direct.P99Ms:F2} | {gateway.RequestsPerSecond:F0} | " +
                 $"{gateway.P50Ms:F2} / {gateway.P99Ms:F2} | {gateway.P50Ms - direct.P50Ms:F2} | {cpuPerRequest:F0} | {switchesPerRequest:F1} | {gateway.Errors + direct.Errors} |");
    }
}

// Exact-cache hits: the same deterministic request again and again (the first call fills the cache).
var hitScript = Scripts.Chat(Scripts.Deterministic(sharedRequest), modes[0].Alias, key);
await Wrk.RunAsync(bench.ChatUrl(api), 16, TimeSpan.FromSeconds(3), hitScript);
if (Argument("--trace", 0) is > 0 and var hitTraceSeconds)
{
    var file = await Profiler.TraceAsync(api, bench.ChatUrl(api), hitScript, TimeSpan.FromSeconds(hitTraceSeconds));
    Console.WriteLine($"CPU trace of the Api serving exact-cache hits: {file}");
}

var hitCpuBefore = api.CpuTime();
var hitSwitchesBefore = api.ContextSwitches();
var hits = await Wrk.RunAsync(bench.ChatUrl(api), 16, duration, hitScript);
var hitCpu = (api.CpuTime() - hitCpuBefore).TotalMicroseconds / Math.Max(1, hits.Requests);
var hitSwitches = api.ContextSwitchesSince(hitSwitchesBefore) / (double)Math.Max(1, hits.Requests);

var ttfb = new List<string>();
foreach (var mode in modes)
{
    var direct = await Streaming.TimeToFirstContentAsync(mode.DirectUrl, sharedRequest, mode.Alias, key);
    var gateway = await Streaming.TimeToFirstContentAsync(bench.ChatUrl(api), sharedRequest, mode.Alias, key);
    ttfb.Add($"{mode.Name}: upstream {direct:F2} ms, gateway {gateway:F2} ms, added {gateway - direct:F2} ms");
}

Console.WriteLine();
Console.WriteLine($"Warm-up curve (a fresh Api under 16 connections, {modes[0].Name} upstream, from process start):");
Console.WriteLine("| window | requests/s | Api CPU µs/request |");
Console.WriteLine("|---|---|---|");
curve.ForEach(point => Console.WriteLine($"| {point.From.TotalSeconds:F0}–{point.To.TotalSeconds:F0} s | {point.RequestsPerSecond:F0} | {point.CpuPerRequestMicros:F0} |"));
Console.WriteLine($"time until CPU/request is within 1.5× of the last window: {WarmUpCurve.TimeToSteady(curve):F0} s");
Console.WriteLine();
Console.WriteLine("| upstream | connections | upstream req/s | upstream p50 / p99 ms | gateway req/s | gateway p50 / p99 ms | added p50 ms | Api CPU µs/request | Api context switches/request | errors |");
Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
rows.ForEach(Console.WriteLine);
Console.WriteLine();
Console.WriteLine($"exact-cache hits at 16 connections: {hits.RequestsPerSecond:F0} req/s, p50 {hits.P50Ms:F2} ms, Api CPU {hitCpu:F0} µs/request, {hitSwitches:F1} context switches/request");
Console.WriteLine($"streaming, time to first content chunk, p50 of 200 sequential: {string.Join("; ", ttfb)}");
Console.WriteLine($"Api peak RSS: {api.PeakRssMiB():F0} MiB");
Console.WriteLine("targets: CPU ≤ 80 µs/request at 16 connections (external mock); cache hit ≤ 40 µs; within 1.5× of steady by 15 s; added p50 ≤ 0.15 ms at 1 connection; added TTFB ≤ 0.3 ms; peak RSS ≤ 200 MiB");

static int Argument(string name, int fallback) =>
    Option(name, null) is { } value ? int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) : fallback;

static string? Option(string name, string? fallback)
{
    var args = Environment.GetCommandLineArgs();
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
}

internal sealed record Mode(string Name, string Alias, Uri DirectUrl);
