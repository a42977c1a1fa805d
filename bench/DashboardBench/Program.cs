using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using AspireLlm.DashboardBench;
using AspireLlm.Tests.Shared;
using Npgsql;

// Each dashboard page's first render (the HTML of its server-side render, which waits for the
// Api's answers) and each admin endpoint it calls, against a database seeded like a busy install:
// 1 000 000 usage ledger rows, 100 000 jobs, 2 000 keys, three days of per-minute and two months of
// per-hour metric rollups. Real Postgres, Redis, Api and dashboard processes (Release).
// Usage: bench/run-dashboard-bench.sh [--runs 10] [--ledger-rows 1000000] [--jobs 100000] [--keys 2000]
var size = new SeedSize(
    Keys: Argument("--keys", 2_000), Tenants: Argument("--tenants", 200), LedgerRows: Argument("--ledger-rows", 1_000_000),
    Jobs: Argument("--jobs", 100_000), Days: 30, AuditRows: Argument("--audit-rows", 20_000));
var runs = Argument("--runs", 10);
const string AdminKey = "bench-admin-key-0123456789abcdef";
const double Target = 300;

Console.WriteLine($"Dashboard benchmark: {size.LedgerRows:N0} ledger rows, {size.Jobs:N0} jobs, {size.Keys:N0} keys over {size.Tenants} tenants, " +
                  $"{size.Days} days; {runs} timed runs per row after 2 warm-ups; {Environment.ProcessorCount} cores, load average {LoadAverage()} at start; Release.");

await using var infrastructure = new LocalInfrastructure();
await infrastructure.StartAsync();
await Seed.RunAsync(infrastructure.DatabaseConnectionString, size);
await PrintTableSizesAsync(infrastructure.DatabaseConnectionString);

var apiSettings = new Dictionary<string, string> { ["Admin:BootstrapKey"] = AdminKey };
foreach (var alias in Seed.Aliases)
{
    apiSettings[$"Orchestration:Models:{alias}:Groups:0:Deployments:0"] = $"sim-{alias}-a";
    apiSettings[$"Orchestration:Models:{alias}:Groups:0:Deployments:1"] = $"sim-{alias}-b";
}

foreach (var deployment in Seed.Deployments)
{
    apiSettings[$"Orchestration:Deployments:{deployment}:Provider"] = "simulator";
    apiSettings[$"Orchestration:Deployments:{deployment}:Model"] = deployment;
}

using var probe = new HttpClient();
using var api = ServiceProcess.Start("Api", infrastructure, apiSettings, "Release");
await api.WaitHealthyAsync(probe);
using var dashboard = ServiceProcess.Start("Dashboard.Web", infrastructure, new Dictionary<string, string>
{
    ["Admin:ApiKey"] = AdminKey,
    ["Admin:ApiBaseAddress"] = api.BaseAddress.ToString().TrimEnd('/'),
    // Production cookies are Secure: the dashboard believes the X-Forwarded-Proto of a TLS-ending proxy (the bench's requests).
    ["ASPNETCORE_FORWARDEDHEADERS_ENABLED"] = "true",
}, "Release");
await dashboard.WaitHealthyAsync(probe);

using var admin = new HttpClient { BaseAddress = api.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
using var browser = await DashboardBrowser.LogInAsync(dashboard.BaseAddress, AdminKey);

var newestJob = Seed.JobId(size.Jobs);
var someKey = new Guid(Convert.FromHexString(Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData("key5"u8))), bigEndian: true);
var pages = new (string Path, string[] Endpoints)[]
{
    ("/", ["/v1/admin/overview?range=hour"]),
    ("/usage", ["/v1/admin/usage?group_by=key&limit=50"]),
    ("/providers", ["/v1/admin/providers?range=hour"]),
    ("/queues", ["/v1/admin/queues?range=hour"]),
    ("/jobs", ["/v1/admin/jobs?limit=25&offset=0"]),
    ($"/jobs/{newestJob}", [$"/v1/admin/jobs/{newestJob}"]),
    ("/keys", ["/v1/admin/keys", "/v1/admin/usage/keys"]),
    ("/audit", ["/v1/admin/audit?limit=50"]),
};
// What an operator does next on those pages: other ranges, groupings, filters and pages.
string[] more =
[
    "/v1/admin/overview?range=day", "/v1/admin/overview?range=month", "/v1/admin/providers?range=day", "/v1/admin/providers?range=month",
    "/v1/admin/queues?range=day", "/v1/admin/queues?range=month", "/v1/admin/usage?group_by=tenant&limit=50",
    "/v1/admin/usage?group_by=alias&limit=50", "/v1/admin/usage?group_by=deployment&limit=50", $"/v1/admin/usage?group_by=key&key_id={someKey}",
    "/v1/admin/usage/csv?group_by=tenant", "/v1/admin/jobs?limit=25&offset=0&tenant_id=tenant-0042", "/v1/admin/jobs?limit=25&offset=0&status=failed",
    "/v1/admin/jobs?limit=25&offset=2500", "/v1/admin/audit?limit=50&action=key.update",
];

var rows = new List<Row>();
foreach (var (path, endpoints) in pages)
{
    rows.Add(await MeasureAsync($"page {path}", () => browser.GetPageAsync(path)));
    foreach (var endpoint in endpoints)
    {
        rows.Add(await MeasureAsync($"  GET {endpoint}", () => GetAsync(admin, endpoint)));
    }
}

foreach (var endpoint in more)
{
    rows.Add(await MeasureAsync($"GET {endpoint}", () => GetAsync(admin, endpoint)));
}

Console.WriteLine();
Console.WriteLine($"| first render (page) or admin endpoint | cold ms | p50 ms | max ms | bytes | p50 under {Target:F0} ms |");
Console.WriteLine("|---|---|---|---|---|---|");
foreach (var row in rows)
{
    Console.WriteLine($"| {row.Name.Replace("|", "\\|", StringComparison.Ordinal)} | {row.Cold:F0} | {row.P50:F0} | {row.Max:F0} | {row.Bytes:N0} | {(row.P50 < Target ? "yes" : "NO")} |");
}

Console.WriteLine();
Console.WriteLine($"load average at the end: {LoadAverage()}; peak RSS Api {api.PeakRssMiB():F0} MiB, dashboard {dashboard.PeakRssMiB():F0} MiB");
var failing = rows.Where(r => r.Name.StartsWith("page", StringComparison.Ordinal) && r.P50 >= Target).Select(r => r.Name).ToList();
Console.WriteLine(failing.Count == 0 ? $"every page's first render: p50 under {Target:F0} ms" : $"pages at or over {Target:F0} ms (p50): {string.Join(", ", failing)}");

async Task<Row> MeasureAsync(string name, Func<Task<int>> request)
{
    var cold = Stopwatch.StartNew();
    var bytes = await request();
    var coldMs = cold.Elapsed.TotalMilliseconds;
    await request();
    await request();
    var samples = new List<double>();
    for (var i = 0; i < runs; i++)
    {
        var watch = Stopwatch.StartNew();
        await request();
        samples.Add(watch.Elapsed.TotalMilliseconds);
    }

    samples.Sort();
    var row = new Row(name, coldMs, samples[samples.Count / 2], samples[^1], bytes);
    Console.Error.WriteLine($"{row.Name}: cold {row.Cold:F0} ms, p50 {row.P50:F0} ms, max {row.Max:F0} ms");
    return row;
}

static async Task<int> GetAsync(HttpClient client, string path)
{
    using var response = await client.GetAsync(path);
    var body = await response.Content.ReadAsByteArrayAsync();
    if (!response.IsSuccessStatusCode)
    {
        throw new InvalidOperationException($"GET {path}: {(int)response.StatusCode} {System.Text.Encoding.UTF8.GetString(body)}");
    }

    return body.Length;
}

static async Task PrintTableSizesAsync(string connectionString)
{
    await using var connection = new NpgsqlConnection(connectionString);
    await connection.OpenAsync();
    await using var command = new NpgsqlCommand("""
        SELECT relname, n_live_tup FROM pg_stat_user_tables
        WHERE relname IN ('usage_ledger', 'usage_daily', 'jobs', 'api_keys', 'metric_minutes', 'metric_hours', 'audit_log') ORDER BY relname
        """, connection);
    await using var reader = await command.ExecuteReaderAsync();
    var sizes = new List<string>();
    while (await reader.ReadAsync())
    {
        sizes.Add($"{reader.GetString(0)} {reader.GetInt64(1):N0}");
    }

    Console.WriteLine("rows: " + string.Join(", ", sizes));
}

static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

static int Argument(string name, int fallback)
{
    var args = Environment.GetCommandLineArgs();
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}

internal sealed record Row(string Name, double Cold, double P50, double Max, int Bytes);
