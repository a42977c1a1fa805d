using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AspireLlm.Bench;
using AspireLlm.Tests.Shared;
using Npgsql;

// The async job path under load: POST /v1/jobs latency at N concurrent submitters (against GET /alive
// on the same Api as the baseline), jobs completed per second by the workers, and pick-up latency on
// an idle system and under load. Real Postgres, Redis, Api and Worker processes; simulator at zero latency.
var duration = TimeSpan.FromSeconds(Argument("--duration", 15));
var concurrency = Argument("--concurrency", 50);
var workers = Argument("--workers", 2);
var workerThreads = Argument("--worker-threads", 20);
const string AdminKey = "bench-admin-key-0123456789abcdef";

Console.WriteLine($"Jobs benchmark: {concurrency} submitters for {duration.TotalSeconds:F0} s, {workers} worker processes × {workerThreads} chat workers, " +
                  $"{Environment.ProcessorCount} cores, Release, simulator at zero latency.");

var diagnose = Environment.GetCommandLineArgs().Contains("--diagnose");
await using var infrastructure = new LocalInfrastructure
{
    ExtraPostgresArgs = diagnose ? ["-c", "shared_preload_libraries=pg_stat_statements"] : [],
};
await infrastructure.StartAsync();

using var probe = new HttpClient();
using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency * 2 }) { Timeout = TimeSpan.FromSeconds(30) };
using var api = ServiceProcess.Start("Api", infrastructure, new Dictionary<string, string>(EnvironmentFrom("--api-env"))
{
    ["Admin:BootstrapKey"] = AdminKey,
    // The flat-out row queues jobs faster than they run: without this, the per-key cap on pending jobs
    // (1 000 by default) answers most of its POSTs 429, and the row measures refusals.
    ["Jobs:MaxPendingPerKey"] = "1000000",
}, "Release");
var workerProcesses = Enumerable.Range(0, workers)
    .Select(_ => ServiceProcess.Start("Worker", infrastructure, new Dictionary<string, string>(EnvironmentFrom("--worker-env"))
    {
        ["Worker:ChatWorkerCount"] = workerThreads.ToString(),
    }, "Release", niceness: OptionalArgument("--worker-nice"))).ToList();
try
{
    await api.WaitHealthyAsync(probe);
    foreach (var worker in workerProcesses)
    {
        await worker.WaitHealthyAsync(probe);
    }

    http.BaseAddress = api.BaseAddress;
    http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
    var submitted = new ConcurrentBag<Guid>();
    var body = """{"kind":"chat.completion","input":{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello there"}],"temperature":0}}""";

    async Task<bool> SubmitAsync(HttpClient client)
    {
        using var response = await client.PostAsync("/v1/jobs", new StringContent(body, Encoding.UTF8, "application/json"));
        if (!response.IsSuccessStatusCode)
        {
            return false;
        }

        submitted.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid());
        return true;
    }

    if (Environment.GetCommandLineArgs().Contains("--probe"))
    {
        foreach (var (name, probeCall) in new (string, Func<HttpClient, Task<bool>>)[]
        {
            ("GET /alive", async c => (await c.GetAsync("/alive")).IsSuccessStatusCode),
            ("GET /v1/models", async c => (await c.GetAsync("/v1/models")).IsSuccessStatusCode),
            ("POST /v1/jobs", SubmitAsync),
            ("GET /v1/jobs/{id}", async c => (await c.GetAsync($"/v1/jobs/{submitted.First()}")).IsSuccessStatusCode),
        })
        {
            var sequential = await LoadDriver.RunAsync(1, TimeSpan.FromSeconds(3), probeCall, http);
            Console.WriteLine($"probe {name}: p50 {sequential.Percentile(50):F2} ms, p99 {sequential.Percentile(99):F2} ms");
        }
    }

    // Warm up JIT, pools and connections, then measure pick-up on an idle system, one job at a time.
    // The JIT tiers hot code up in the background: with the call-counting delay the runtime has by
    // default that took minutes under load; the processes run without it (ServiceProcess, as the
    // images do), and 30 s is what a replica gets in production before it matters. The warm-up is
    // paced at a rate the workers keep up with, so no backlog is left for the measurements.
    var warmUp = TimeSpan.FromSeconds(Argument("--warmup", 30));
    var warmUpRate = Argument("--warmup-rate", 120);
    Console.WriteLine($"warming up for {warmUp.TotalSeconds:F0} s at {warmUpRate} jobs/s");
    await PacedLoadDriver.RunAsync(concurrency, warmUpRate, warmUp, SubmitAsync, http);
    await WaitForAllAsync(infrastructure);
    submitted.Clear();
    for (var i = 0; i < 40; i++)
    {
        await SubmitAsync(http);
        await Task.Delay(100);
    }

    await WaitForAllAsync(infrastructure);
    var idlePickup = await PickupPercentilesAsync(infrastructure, [.. submitted]);
    submitted.Clear();

    // POST latency at a rate the workers keep up with: the Api's own cost, not a saturated machine's queueing.
    var sustainableRate = Argument("--paced-rate", 100);
    var pacedCpuBefore = CpuReading.Take(api, workerProcesses);
    var paced = await PacedLoadDriver.RunAsync(concurrency, sustainableRate, duration, SubmitAsync, http);
    await WaitForAllAsync(infrastructure);
    var pacedCpu = CpuReading.Take(api, workerProcesses) - pacedCpuBefore;
    var pacedJobs = submitted.Count;
    var pacedPickup = await PickupPercentilesAsync(infrastructure, [.. submitted]);
    submitted.Clear();
    // The table opens with the paced rows; --paced-only (a quicker run for comparing settings) stops there.
    Console.WriteLine();
    Console.WriteLine("| measure | value | target |");
    Console.WriteLine("|---|---|---|");
    Console.WriteLine($"| POST /v1/jobs at {sustainableRate}/s from {concurrency} submitters (workers keep up): p50 / p99 | {paced.Percentile(50):F2} / {paced.Percentile(99):F2} ms ({paced.Failures} failed) | p99 ≤ 15 ms |");
    Console.WriteLine($"| pick-up latency at {sustainableRate}/s: p50 / p99 | {pacedPickup.P50:F1} / {pacedPickup.P99:F1} ms | |");
    Console.WriteLine($"| CPU per job at {sustainableRate}/s: Api / Workers / Postgres / Redis | {pacedCpu.Api.TotalMicroseconds / pacedJobs:F0} / {pacedCpu.PerJob(pacedJobs)} | |");
    Console.WriteLine($"| pick-up latency, idle: p50 / p99 | {idlePickup.P50:F1} / {idlePickup.P99:F1} ms | p50 ≤ 100 ms |");
    if (Environment.GetCommandLineArgs().Contains("--paced-only"))
    {
        if (diagnose)
        {
            await PrintDiagnosisAsync(infrastructure);
        }

        return;
    }

    var baseline = await LoadDriver.RunAsync(concurrency, duration, async client =>
    {
        using var response = await client.GetAsync("/alive");
        return response.IsSuccessStatusCode;
    }, http);

    var cpuBefore = CpuReading.Take(api, workerProcesses);
    var load = await LoadDriver.RunAsync(concurrency, duration, SubmitAsync, http);
    var apiCpu = api.CpuTime() - cpuBefore.Api;
    var ids = submitted.ToArray();
    await WaitForAllAsync(infrastructure);
    var loadCpu = CpuReading.Take(api, workerProcesses) - cpuBefore;
    var throughput = await ThroughputAsync(infrastructure, ids);
    var loadPickup = await PickupPercentilesAsync(infrastructure, ids);

    Console.WriteLine($"| baseline GET /alive, {concurrency} conns: p50 / p99 | {baseline.Percentile(50):F2} / {baseline.Percentile(99):F2} ms ({baseline.PerSecond:F0} req/s) | |");
    Console.WriteLine($"| POST /v1/jobs, {concurrency} submitters flat out (closed loop): p50 / p99 | {load.Percentile(50):F2} / {load.Percentile(99):F2} ms ({load.PerSecond:F0} req/s, {load.Failures} failed) | saturation: mean latency = {concurrency} ÷ req/s |");
    Console.WriteLine($"| POST /v1/jobs p99 ÷ baseline p99 | {load.Percentile(99) / baseline.Percentile(99):F1}× | |");
    Console.WriteLine($"| Api CPU time per POST | {apiCpu.TotalMicroseconds / load.Count:F0} µs | |");
    Console.WriteLine($"| CPU per job, flat out: Workers / Postgres / Redis | {loadCpu.PerJob(ids.Length)} | |");
    Console.WriteLine($"| jobs completed per second ({ids.Length} jobs, {workers} workers) | {throughput:F0} /s | ≥ 200 /s |");
    Console.WriteLine($"| pick-up latency under load: p50 / p99 | {loadPickup.P50:F1} / {loadPickup.P99:F1} ms | |");
    Console.WriteLine($"| peak RSS: Api / each Worker | {api.PeakRssMiB():F0} / {string.Join(", ", workerProcesses.Select(w => w.PeakRssMiB().ToString("F0")))} MiB | |");
    if (diagnose)
    {
        await PrintDiagnosisAsync(infrastructure);
    }

    Console.WriteLine($"| CPU: Api / Workers (whole run) | {api.CpuTime().TotalSeconds:F1} / {string.Join(", ", workerProcesses.Select(w => w.CpuTime().TotalSeconds.ToString("F1")))} s | |");
}
finally
{
    foreach (var worker in workerProcesses)
    {
        worker.Dispose();
    }
}

static int Argument(string name, int fallback)
{
    var args = Environment.GetCommandLineArgs();
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1]) : fallback;
}

// What Postgres did per job: statements by calls, commits, sessions opened, and scans by table (written to stderr).
static async Task PrintDiagnosisAsync(LocalInfrastructure infrastructure)
{
    await using var connection = new NpgsqlConnection(infrastructure.DatabaseConnectionString);
    await connection.OpenAsync();
    await using (var statements = new NpgsqlCommand("""
        CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
        SELECT calls, round(total_exec_time)::bigint, left(regexp_replace(query, '\s+', ' ', 'g'), 110)
        FROM pg_stat_statements ORDER BY calls DESC LIMIT 40
        """, connection))
    await using (var top = await statements.ExecuteReaderAsync())
    {
        while (await top.ReadAsync())
        {
            Console.Error.WriteLine($"{top.GetInt64(0),8} calls {top.GetInt64(1),7} ms  {top.GetString(2)}");
        }
    }

    await using (var sessions = new NpgsqlCommand("""
        SELECT sessions, xact_commit, (SELECT count(*) FROM jobs) FROM pg_stat_database WHERE datname = current_database()
        """, connection))
    await using (var totals = await sessions.ExecuteReaderAsync())
    {
        await totals.ReadAsync();
        // Each session is a forked backend and a SCRAM handshake: a number that grows with the jobs means connections are not reused.
        Console.Error.WriteLine($"Postgres sessions opened on this database: {totals.GetInt64(0)}; " +
                                $"commits per job: {(double)totals.GetInt64(1) / totals.GetInt64(2):F1} ({totals.GetInt64(2)} jobs)");
    }

    await using var command = new NpgsqlCommand("""
        SELECT schemaname || '.' || relname, seq_scan, seq_tup_read, idx_scan, n_tup_ins, n_tup_upd, n_tup_del
        FROM pg_stat_user_tables ORDER BY seq_tup_read DESC LIMIT 8
        """, connection);
    await using var reader = await command.ExecuteReaderAsync();
    while (await reader.ReadAsync())
    {
        Console.Error.WriteLine($"{reader.GetString(0),-28} seq_scan={reader.GetInt64(1)} seq_tup_read={reader.GetInt64(2)} idx_scan={(reader.IsDBNull(3) ? 0 : reader.GetInt64(3))} ins={reader.GetInt64(4)} upd={reader.GetInt64(5)} del={reader.GetInt64(6)}");
    }
}

// --api-env / --worker-env NAME=VALUE (repeatable): an environment variable for the Api or the Worker
// processes only, e.g. a runtime knob to compare.
static IEnumerable<KeyValuePair<string, string>> EnvironmentFrom(string option)
{
    var args = Environment.GetCommandLineArgs();
    for (var i = 0; i < args.Length - 1; i++)
    {
        if (args[i] == option && args[i + 1].Split('=', 2) is [var name, var value])
        {
            yield return KeyValuePair.Create(name, value);
        }
    }
}

static int? OptionalArgument(string name) => Environment.GetCommandLineArgs().Contains(name) ? Argument(name, 0) : null;

static async Task WaitForAllAsync(LocalInfrastructure infrastructure)
{
    await using var connection = new NpgsqlConnection(infrastructure.DatabaseConnectionString);
    await connection.OpenAsync();
    var deadline = DateTime.UtcNow.AddMinutes(5);
    while (DateTime.UtcNow < deadline)
    {
        // The poll must not take CPU from the workers it waits for (it counts as Postgres CPU per job):
        // not a lookup of thousands of ids, nor a count over the whole jobs table (33 ms a poll once it
        // held 100 000 rows). While Hangfire's queue or the undispatched index has a row, work remains;
        // once neither has, one exact check over the jobs table, which also catches a job between its
        // dispatcher's claim and its queue entry. Only this benchmark's jobs are in the database, so
        // "none unfinished" is "all of these finished".
        await using var busy = new NpgsqlCommand("""
            SELECT EXISTS (SELECT 1 FROM hangfire.jobqueue)
                OR EXISTS (SELECT 1 FROM jobs WHERE hangfire_job_id IS NULL AND status IN ('pending', 'processing'))
            """, connection);
        if (!(bool)(await busy.ExecuteScalarAsync())!)
        {
            await using var command = new NpgsqlCommand("SELECT count(*) FROM jobs WHERE status NOT IN ('completed', 'failed', 'cancelled')", connection);
            if ((long)(await command.ExecuteScalarAsync())! == 0)
            {
                return;
            }
        }

        await Task.Delay(500);
    }

    throw new TimeoutException("Jobs did not finish within 5 minutes.");
}

static async Task<double> ThroughputAsync(LocalInfrastructure infrastructure, Guid[] ids)
{
    await using var connection = new NpgsqlConnection(infrastructure.DatabaseConnectionString);
    await connection.OpenAsync();
    await using var command = new NpgsqlCommand(
        "SELECT count(*) FILTER (WHERE status = 'completed') / EXTRACT(EPOCH FROM max(completed_at) - min(created_at))::float8 FROM jobs WHERE id = ANY($1)", connection);
    command.Parameters.AddWithValue(ids);
    return (double)(await command.ExecuteScalarAsync())!;
}

static async Task<(double P50, double P99)> PickupPercentilesAsync(LocalInfrastructure infrastructure, Guid[] ids)
{
    await using var connection = new NpgsqlConnection(infrastructure.DatabaseConnectionString);
    await connection.OpenAsync();
    await using var command = new NpgsqlCommand("""
        SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM started_at - created_at)),
               percentile_cont(0.99) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM started_at - created_at))
        FROM jobs WHERE id = ANY($1)
        """, connection);
    command.Parameters.AddWithValue(ids);
    await using var reader = await command.ExecuteReaderAsync();
    await reader.ReadAsync();
    return (reader.GetDouble(0) * 1000, reader.GetDouble(1) * 1000);
}
