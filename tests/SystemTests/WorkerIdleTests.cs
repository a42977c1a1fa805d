using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Aspire.Hosting.ApplicationModel;
using AspireLlm.ServiceDefaults;

namespace AspireLlm.SystemTests;

/// <summary>
/// An idle Worker stays quiet: Hangfire's polling (fetches, heartbeats, the dispatcher's sweeps) is
/// neither traced (no database span outside real work) nor logged per SQL command, while a job's own
/// database work is traced inside the job's trace.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class WorkerIdleTests(AppFixture fixture)
{
    /// <summary>Long enough for several of Hangfire's polls and heartbeats and the dispatcher's sweeps on both replicas.</summary>
    private static readonly TimeSpan IdleWindow = TimeSpan.FromSeconds(8);

    [Fact]
    public async Task Polling_is_neither_traced_nor_logged_but_a_jobs_database_work_is_traced()
    {
        using var api = fixture.CreateApiClient();
        using var accepted = await api.PostAsync("/v1/jobs", new StringContent(
            """{"kind":"chat.completion","input":{"model":"gpt-4o-mini","messages":[{"role":"user","content":"idle worker"}]}}""", Encoding.UTF8, "application/json"));
        var jobId = (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        // The job's database work is traced, inside the job's trace (so the filter below is not vacuous).
        ReceivedSpan? run = null;
        var jobDatabaseSpans = 0;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline && jobDatabaseSpans == 0)
        {
            await Task.Delay(500);
            var spans = fixture.Traces.Spans;
            run = spans.FirstOrDefault(s => s.Service == "worker" && s.Name.StartsWith("job.run", StringComparison.Ordinal) && s.Attributes.GetValueOrDefault("aspirellm.job.id") == jobId);
            jobDatabaseSpans = run is null ? 0 : spans.Count(s => s.Service == "worker" && s.TraceId == run.TraceId && IsDatabase(s));
        }

        Assert.NotNull(run);
        Assert.True(jobDatabaseSpans > 0, "The job's database commands were not traced in its trace.");

        // Then the Worker idles: whatever it sends to Postgres now is polling.
        var workers = await WorkerReplicasAsync();
        Assert.Equal(2, workers.Count);
        var idleSince = fixture.Traces.Spans.Count;
        var lines = await WorkerLogLinesAsync(workers, IdleWindow);

        var idleSpans = fixture.Traces.Spans.Skip(idleSince).Where(s => s.Service == "worker").ToList();
        var pollingSpans = idleSpans.Where(s => IsDatabase(s) && string.IsNullOrEmpty(s.ParentSpanId)).Select(s => s.Name).ToList();
        Assert.True(pollingSpans.Count == 0, $"Root database spans from an idle Worker: {string.Join(", ", pollingSpans.Take(10))}");

        Assert.NotEmpty(lines); // the replicas' console logs were read (their start-up lines at least)
        var sqlLogs = lines.Where(line => line.Contains("info: Npgsql", StringComparison.Ordinal) || line.Contains("info: Hangfire", StringComparison.Ordinal)).ToList();
        Assert.True(sqlLogs.Count == 0, $"Information-level Npgsql or Hangfire log lines from the Worker: {string.Join("\n", sqlLogs.Take(10))}");
    }

    private static bool IsDatabase(ReceivedSpan span) =>
        span.Attributes.GetValueOrDefault("db.system") == "postgresql" || span.Attributes.GetValueOrDefault("db.system.name") == "postgresql"
        || span.Name == "postgresql";

    private async Task<List<string>> WorkerReplicasAsync()
    {
        var ids = new HashSet<string>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await foreach (var item in fixture.App.Services.GetRequiredService<ResourceNotificationService>().WatchAsync(timeout.Token))
            {
                if (item.Resource.Name == ResourceNames.Worker)
                {
                    ids.Add(item.ResourceId);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // the snapshot so far is all there is
        }

        return [.. ids];
    }

    /// <summary>Each replica's console log so far and over the window.</summary>
    private async Task<List<string>> WorkerLogLinesAsync(List<string> replicas, TimeSpan window)
    {
        var logs = fixture.App.Services.GetRequiredService<ResourceLoggerService>();
        var lines = new List<string>();
        using var timeout = new CancellationTokenSource(window);
        await Task.WhenAll(replicas.Select(async replica =>
        {
            try
            {
                await foreach (var batch in logs.WatchAsync(replica).WithCancellation(timeout.Token))
                {
                    lock (lines)
                    {
                        lines.AddRange(batch.Select(line => line.Content));
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // the window is over
            }
        }));
        return lines;
    }
}
