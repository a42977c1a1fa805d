using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AspireLlm.Bench;
using AspireLlm.Tests.Shared;
using AspireLlm.Tests.Shared.FakeProviders;

// Does a burst of the worst requests we know hurt everyone else? Normal chat completions (paced, open
// loop) and /health probes are measured on a quiet Api, then again while 8 clients send, back to back,
// the most expensive bodies we found: ~1 MiB of text with no break (tokenising is quadratic in a run's
// length without our cut), ~1 MiB of random words (nothing cached) to chat and to embeddings, and
// bodies declared over the limit. Api pinned to core 1 (one core, as a small container), all else on core 0.
var duration = TimeSpan.FromSeconds(Argument("--duration", 20));
var warmUp = TimeSpan.FromSeconds(Argument("--warmup", 60));
var rate = Argument("--rate", 100);
var clients = Argument("--clients", 8);
const string AdminKey = "bench-admin-key-0123456789abcdef";
Console.WriteLine($"Hostile burst benchmark: {rate} normal requests/s and 20 /health probes/s, {clients} hostile clients, {duration.TotalSeconds:F0} s per phase; Api pinned to core 1; Release.");

await using var infrastructure = new LocalInfrastructure();
await infrastructure.StartAsync();
await using var upstream = await FakeProviderServer.StartAsync();
upstream.Default = FakeReply.Text("The quarterly report shows steady growth.", promptTokens: 20, completionTokens: 8);

var apiSettings = EnvArguments.Read(new Dictionary<string, string>
{
    ["Admin:BootstrapKey"] = AdminKey,
    ["Orchestration:Deployments:mock:Provider"] = "openai-compatible",
    ["Orchestration:Deployments:mock:Model"] = "mock-model",
    ["Orchestration:Deployments:mock:Endpoint"] = upstream.OpenAiEndpoint.ToString(),
    ["Orchestration:Models:mock:Groups:0:Deployments:0"] = "mock",
    // As our container images run (Directory.Build.props); --env Orchestration:HeavyWorkPriority=Normal compares.
    [AspireLlm.Orchestration.OrchestrationExtensions.HeavyWorkPrioritySetting] = "Idle",
});

using var api = ServiceProcess.Start("Api", infrastructure, apiSettings, "Release", pinToCores: "1");
Console.WriteLine($"Api process {api.Id}");
using var http = new HttpClient { BaseAddress = api.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
await api.WaitHealthyAsync(http);

http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
var created = await (await http.PostAsJsonAsync("/v1/admin/keys", new
{
    tenant_id = "bench", name = "bench", requests_per_minute = 100_000_000, tokens_per_minute = 2_000_000_000,
})).Content.ReadFromJsonAsync<JsonElement>();
http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", created.GetProperty("key").GetString());

var seed = 0;
async Task<bool> Normal(HttpClient client)
{
    var body = $$"""{"model":"mock","messages":[{"role":"system","content":"You are concise."},{"role":"user","content":"Summarise the quarterly report."}],"seed":{{Interlocked.Increment(ref seed)}},"max_tokens":64}""";
    using var response = await client.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
    await response.Content.CopyToAsync(Stream.Null);
    return response.IsSuccessStatusCode;
}

async Task<bool> Health(HttpClient client)
{
    using var response = await client.GetAsync("/health");
    return response.IsSuccessStatusCode;
}

var hostile = HostileBodies.All();
var statuses = new System.Collections.Concurrent.ConcurrentDictionary<int, int>();
async Task HostileClientAsync(int index, CancellationToken stop)
{
    var turn = index;
    while (!stop.IsCancellationRequested)
    {
        var (path, body) = hostile[turn++ % hostile.Length];
        try
        {
            using var response = await http.PostAsync(path, body());
            await response.Content.CopyToAsync(Stream.Null);
            statuses.AddOrUpdate((int)response.StatusCode, 1, (_, count) => count + 1);
        }
        catch (HttpRequestException)
        {
            statuses.AddOrUpdate(0, 1, (_, count) => count + 1); // a reset, counted as such
        }
    }
}

// Work still queued from a burst (huge prompts waiting their turn) must not be billed to the next phase.
async Task WaitUntilQuietAsync()
{
    var interval = TimeSpan.FromSeconds(1);
    for (var waited = TimeSpan.Zero; waited < TimeSpan.FromSeconds(60); waited += interval)
    {
        var before = api.CpuTime();
        await Task.Delay(interval);
        if (api.CpuTime() - before < interval * 0.1)
        {
            return;
        }
    }
}

async Task<(LoadResult Normal, LoadResult Health, TimeSpan Cpu)> MeasureAsync(bool burst)
{
    await WaitUntilQuietAsync();
    using var stop = new CancellationTokenSource();
    var attackers = burst ? Enumerable.Range(0, clients).Select(i => HostileClientAsync(i, stop.Token)).ToArray() : [];
    var cpuBefore = api.CpuTime();
    var health = PacedLoadDriver.RunAsync(2, 20, duration, Health, http);
    var normal = await PacedLoadDriver.RunAsync(8, rate, duration, Normal, http);
    var healthResult = await health;
    var cpu = api.CpuTime() - cpuBefore;
    await stop.CancelAsync();
    await Task.WhenAll(attackers);
    return (normal, healthResult, cpu);
}

Console.WriteLine($"warming up for {warmUp.TotalSeconds:F0} s (normal traffic, then a short burst)");
await PacedLoadDriver.RunAsync(8, rate, warmUp, Normal, http);
using (var shortBurst = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
{
    await Task.WhenAll(Enumerable.Range(0, clients).Select(i => HostileClientAsync(i, shortBurst.Token)));
}

statuses.Clear();
var quiet = await MeasureAsync(burst: false);
var loud = await MeasureAsync(burst: true);

Console.WriteLine();
Console.WriteLine("| phase | normal req/s | normal p50 / p99 ms | normal failures | /health p50 / p99 ms | /health failures | Api CPU s | hostile answers |");
Console.WriteLine("|---|---|---|---|---|---|---|---|");
Console.WriteLine(Row("quiet", quiet, ""));
Console.WriteLine(Row($"{clients} hostile clients", loud, string.Join(", ", statuses.OrderBy(pair => pair.Key).Select(pair => $"{pair.Key}: {pair.Value}"))));
Console.WriteLine();
Console.WriteLine($"normal p99 under the burst / quiet: {loud.Normal.Percentile(99) / quiet.Normal.Percentile(99):F2}× (target ≤ 2×); /health p99 under the burst: {loud.Health.Percentile(99):F1} ms (target < 50 ms)");
// The normal traffic is the same in both phases, so the extra CPU of the burst is the hostile requests'
// (an estimate: under contention the normal requests cost a little more too).
var hostileAnswers = statuses.Values.Sum();
Console.WriteLine($"hostile requests answered: {hostileAnswers / duration.TotalSeconds:F1}/s; Api CPU per hostile request ≈ " +
                  $"{(loud.Cpu - quiet.Cpu).TotalMilliseconds / Math.Max(1, hostileAnswers):F1} ms (burst CPU minus quiet CPU)");
Console.WriteLine($"Api peak RSS: {api.PeakRssMiB():F0} MiB");

static string Row(string phase, (LoadResult Normal, LoadResult Health, TimeSpan Cpu) result, string hostile) =>
    $"| {phase} | {result.Normal.PerSecond:F0} | {result.Normal.Percentile(50):F2} / {result.Normal.Percentile(99):F2} | {result.Normal.Failures} | " +
    $"{result.Health.Percentile(50):F2} / {result.Health.Percentile(99):F2} | {result.Health.Failures} | {result.Cpu.TotalSeconds:F1} | {hostile} |";

static int Argument(string name, int fallback)
{
    var args = Environment.GetCommandLineArgs();
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], System.Globalization.CultureInfo.InvariantCulture) : fallback;
}

/// <summary>The most expensive bodies we found, each about 1 MiB (the limit), built once.</summary>
internal static class HostileBodies
{
    public static (string Path, Func<HttpContent> Body)[] All()
    {
        var random = new Random(42);
        var run = new string([.. Enumerable.Range(0, 1_000_000).Select(_ => (char)('a' + random.Next(26)))]);
        var words = string.Join(' ', Enumerable.Range(0, 120_000).Select(_ => new string([.. Enumerable.Range(0, random.Next(3, 12)).Select(_ => (char)('a' + random.Next(26)))])));
        words = words[..Math.Min(words.Length, 1_000_000)];
        var chatRun = Json($$"""{"model":"mock","messages":[{"role":"user","content":"{{run}}"}],"max_tokens":5}""");
        var chatWords = Json($$"""{"model":"mock","messages":[{"role":"user","content":"{{words}}"}],"max_tokens":5}""");
        var embedRun = Json($$"""{"model":"text-embedding-3-small","input":"{{run}}"}""");
        var oversized = Encoding.UTF8.GetBytes(new string(' ', 1024 * 1024 + 10));
        return
        [
            ("/v1/chat/completions", () => Content(chatRun)),
            ("/v1/chat/completions", () => Content(chatWords)),
            ("/v1/embeddings", () => Content(embedRun)),
            ("/v1/chat/completions", () => Content(oversized)),
        ];
    }

    private static byte[] Json(string json) => Encoding.UTF8.GetBytes(json);

    private static ByteArrayContent Content(byte[] bytes) => new(bytes) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } };
}
