using AspireLlm.Api.Errors;
using AspireLlm.Orchestration.Jobs;
using AspireLlm.Orchestration.Observability;
using AspireLlm.Orchestration.Routing;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace AspireLlm.Api.Admin;

public sealed record OverviewPoint(DateTimeOffset Time, long Requests, IReadOnlyDictionary<string, long> ByClass, double? P50, double? P95, double? P99, double Tokens, double Cost);

public sealed record CacheView(string Kind, long Hits, long Misses, long Bypassed, double? HitRatio);

public sealed record OverviewTotals(
    long Requests, double RequestsPerSecond, IReadOnlyDictionary<string, long> ByClass, double ErrorRate4xx, double ErrorRate5xx,
    long ChatRequests, double? ChatP50, double? ChatP95, double? ChatP99, double Tokens, double TokensPerSecond, double Cost, double CostPerHour);

/// <summary>The overview: traffic, errors, chat latency, tokens, cost and caches over one window, for the whole cluster.</summary>
public sealed record OverviewView(string Range, DateTimeOffset From, DateTimeOffset To, int StepSeconds, OverviewTotals Totals, IReadOnlyList<OverviewPoint> Points, IReadOnlyList<CacheView> Caches);

public sealed record TransitionView(DateTimeOffset Time, string State, long Count);

public sealed record DeploymentView(
    string Deployment, string Provider, string Model, IReadOnlyList<string> Aliases, string State, double RetryAfterSeconds,
    long Attempts, IReadOnlyDictionary<string, long> Outcomes, IReadOnlyDictionary<string, long> Retries, IReadOnlyDictionary<string, long> Fallbacks,
    double? LatencyP50, double? LatencyP95, double? TtftP50, double? TtftP95, double InputTokens, double OutputTokens, double Cost,
    IReadOnlyList<TransitionView> Transitions);

public sealed record ProvidersView(string Range, DateTimeOffset From, DateTimeOffset To, IReadOnlyList<DeploymentView> Deployments);

public sealed record QueueView(
    string Kind, string Queue, long Pending, long Running, double? OldestPendingSeconds, double? PickupP50, double? PickupP95,
    IReadOnlyDictionary<string, long> Runs, double RunsPerMinute, double? DurationP95);

public sealed record WorkerView(string Server, IReadOnlyList<string> Queues, int WorkerCount, long Running, DateTimeOffset? StartedAt, DateTimeOffset LastHeartbeat);

public sealed record QueuesView(string Range, DateTimeOffset From, DateTimeOffset To, IReadOnlyList<QueueView> Queues, IReadOnlyList<WorkerView> Workers);

/// <summary>
/// What is happening and what is broken, for the whole cluster: read from the metric rollups every
/// Api and Worker process adds to (<see cref="MetricQueries"/>), the jobs table and Hangfire's server
/// heartbeats. Ranges: <c>hour</c>, <c>day</c>, <c>month</c> (30 days).
/// </summary>
public static class AdminMetricsEndpoints
{
    public static RouteGroupBuilder MapAdminMetrics(this RouteGroupBuilder group)
    {
        group.MapGet("/overview", OverviewAsync).WithName("AdminOverview");
        group.MapGet("/providers", ProvidersAsync).WithName("AdminProviders");
        group.MapGet("/queues", QueuesAsync).WithName("AdminQueues");
        return group;
    }

    internal static async Task<Results<Ok<OverviewView>, ProblemHttpResult>> OverviewAsync(
        MetricQueries metrics, TimeProvider timeProvider, CancellationToken cancellationToken, string? range = null)
    {
        if (MetricWindow.Of(range, timeProvider.GetUtcNow()) is not { } window)
        {
            return BadRange();
        }

        var data = await metrics.ReadAsync(window, [MetricNames.HttpRequests, MetricNames.Tokens, MetricNames.Cost, MetricNames.Cache], cancellationToken);
        // The dashboard's own reads and unknown routes are not traffic.
        var requests = data.Where(p => p.Name == MetricNames.HttpRequests && p.Dim1 is not ("admin" or "unmatched")).ToList();
        var chat = requests.Where(p => p.Dim1 == "chat").ToList();
        var tokens = data.Where(p => p.Name == MetricNames.Tokens).ToList();
        var cost = data.Where(p => p.Name == MetricNames.Cost).ToList();

        var points = window.Points().Select(t =>
        {
            var at = requests.Where(p => p.Time == t).ToList();
            var chatAt = chat.Where(p => p.Time == t).ToList();
            return new OverviewPoint(t, at.Sum(p => p.Count), ByClass(at),
                MetricQueries.Percentile(chatAt, 0.5), MetricQueries.Percentile(chatAt, 0.95), MetricQueries.Percentile(chatAt, 0.99),
                tokens.Where(p => p.Time == t).Sum(p => p.Sum), Math.Round(cost.Where(p => p.Time == t).Sum(p => p.Sum), 8));
        }).ToList();

        var total = requests.Sum(p => p.Count);
        var byClass = ByClass(requests);
        var totalTokens = tokens.Sum(p => p.Sum);
        var totalCost = Math.Round(cost.Sum(p => p.Sum), 8);
        var totals = new OverviewTotals(
            total, Math.Round(total / window.Seconds, 3), byClass,
            total == 0 ? 0 : Math.Round((double)byClass.GetValueOrDefault("4xx") / total, 4),
            total == 0 ? 0 : Math.Round((double)byClass.GetValueOrDefault("5xx") / total, 4),
            chat.Sum(p => p.Count), MetricQueries.Percentile(chat, 0.5), MetricQueries.Percentile(chat, 0.95), MetricQueries.Percentile(chat, 0.99),
            totalTokens, Math.Round(totalTokens / window.Seconds, 3), totalCost, Math.Round(totalCost / (window.Seconds / 3600), 8));

        // One entry per cache kind that recorded anything: "exact" today; a semantic cache adds its own kind.
        var caches = data.Where(p => p.Name == MetricNames.Cache).GroupBy(p => p.Dim1).Select(kind =>
        {
            long Of(string outcome) => kind.Where(p => p.Dim2 == outcome).Sum(p => p.Count);
            var (hits, misses) = (Of("hit") + Of("stale"), Of("miss"));
            return new CacheView(kind.Key, hits, misses, Of("bypass"), hits + misses == 0 ? null : Math.Round((double)hits / (hits + misses), 4));
        }).OrderBy(c => c.Kind, StringComparer.Ordinal).ToList();

        return TypedResults.Ok(new OverviewView(window.Range, window.From, window.To, (int)window.Step.TotalSeconds, totals, points, caches));
    }

    internal static async Task<Results<Ok<ProvidersView>, ProblemHttpResult>> ProvidersAsync(
        MetricQueries metrics, ModelCatalog models, TimeProvider timeProvider, CancellationToken cancellationToken, string? range = null)
    {
        if (MetricWindow.Of(range, timeProvider.GetUtcNow()) is not { } window)
        {
            return BadRange();
        }

        var data = await metrics.ReadAsync(window,
            [MetricNames.ModelAttempts, MetricNames.TimeToFirstChunk, MetricNames.Tokens, MetricNames.Cost, MetricNames.Retries, MetricNames.Fallbacks, MetricNames.BreakerTransitions],
            cancellationToken);
        var deployments = models.Aliases.SelectMany(alias => models.GetRoute(alias).Deployments.Select(d => (alias, d)))
            .GroupBy(pair => pair.d.Name, StringComparer.Ordinal)
            .Select(group =>
            {
                var deployment = group.First().d;
                var mine = data.Where(p => p.Dim1 == deployment.Name).ToList();
                List<MetricPoint> Of(string name) => [.. mine.Where(p => p.Name == name)];
                var attempts = Of(MetricNames.ModelAttempts);
                var open = deployment.Breaker.IsOpen(out var retryAfter);
                return new DeploymentView(
                    deployment.Name, deployment.Options.Provider, deployment.Options.Model, [.. group.Select(pair => pair.alias)],
                    deployment.Breaker.State.ToString().ToLowerInvariant(), open ? Math.Round(retryAfter.TotalSeconds, 1) : 0,
                    attempts.Sum(p => p.Count), Counts(attempts), Counts(Of(MetricNames.Retries)), Counts(Of(MetricNames.Fallbacks)),
                    MetricQueries.Percentile(attempts.Where(p => p.Dim2 == "ok"), 0.5), MetricQueries.Percentile(attempts.Where(p => p.Dim2 == "ok"), 0.95),
                    MetricQueries.Percentile(Of(MetricNames.TimeToFirstChunk), 0.5), MetricQueries.Percentile(Of(MetricNames.TimeToFirstChunk), 0.95),
                    Of(MetricNames.Tokens).Where(p => p.Dim2 == "input").Sum(p => p.Sum), Of(MetricNames.Tokens).Where(p => p.Dim2 == "output").Sum(p => p.Sum),
                    Math.Round(Of(MetricNames.Cost).Sum(p => p.Sum), 8),
                    [.. Of(MetricNames.BreakerTransitions).OrderByDescending(p => p.Time).Select(p => new TransitionView(p.Time, p.Dim2.ToLowerInvariant(), p.Count))]);
            })
            .OrderBy(d => d.Deployment, StringComparer.Ordinal)
            .ToList();
        return TypedResults.Ok(new ProvidersView(window.Range, window.From, window.To, deployments));
    }

    internal static async Task<Results<Ok<QueuesView>, ProblemHttpResult>> QueuesAsync(
        MetricQueries metrics, NpgsqlDataSource dataSource, TimeProvider timeProvider, CancellationToken cancellationToken, string? range = null)
    {
        var now = timeProvider.GetUtcNow();
        if (MetricWindow.Of(range, now) is not { } window)
        {
            return BadRange();
        }

        var data = await metrics.ReadAsync(window, [MetricNames.JobRuns, MetricNames.JobPickup], cancellationToken);
        var active = new List<(string Kind, string Status, long Count, DateTimeOffset Oldest)>();
        var workers = new List<WorkerView>();
        await using (var batch = dataSource.CreateBatch())
        {
            // Active jobs are few and indexed (jobs_active); Hangfire's server rows are one per queue per Worker.
            batch.BatchCommands.Add(new("SELECT kind, status, count(*), min(created_at) FROM jobs WHERE status IN ('pending', 'processing') GROUP BY 1, 2"));
            batch.BatchCommands.Add(new($"""
                SELECT id, data::text, lastheartbeat FROM {Orchestration.Storage.DatabaseMigrator.HangfireSchema}.server ORDER BY id
                """));
            batch.BatchCommands.Add(new("SELECT worker, kind, count(*) FROM jobs WHERE status = 'processing' AND worker IS NOT NULL GROUP BY 1, 2"));
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                active.Add((reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetFieldValue<DateTimeOffset>(3)));
            }

            await reader.NextResultAsync(cancellationToken);
            var servers = new List<(string Id, string Data, DateTime Heartbeat)>();
            while (await reader.ReadAsync(cancellationToken))
            {
                servers.Add((reader.GetString(0), reader.GetString(1), reader.GetDateTime(2)));
            }

            await reader.NextResultAsync(cancellationToken);
            var running = new List<(string Worker, string Kind, long Count)>();
            while (await reader.ReadAsync(cancellationToken))
            {
                running.Add((reader.GetString(0), reader.GetString(1), reader.GetInt64(2)));
            }

            foreach (var (id, serverData, heartbeat) in servers)
            {
                using var server = System.Text.Json.JsonDocument.Parse(serverData);
                var root = server.RootElement;
                List<string> served = root.TryGetProperty("Queues", out var serverQueues) ? [.. serverQueues.EnumerateArray().Select(q => q.GetString() ?? "")] : [];
                // The server id is "{machine}:{pid}:{queue}:{guid}"; jobs.worker is "{machine}:{pid}".
                var load = running.Where(r => id.StartsWith(r.Worker + ":", StringComparison.Ordinal)
                    && served.Contains(JobKinds.Queues.GetValueOrDefault(r.Kind, r.Kind))).Sum(r => r.Count);
                workers.Add(new WorkerView(
                    id, served, root.TryGetProperty("WorkerCount", out var count) ? count.GetInt32() : 0, load,
                    root.TryGetProperty("StartedAt", out var startedAt) && startedAt.TryGetDateTimeOffset(out var started) ? started : null,
                    new DateTimeOffset(DateTime.SpecifyKind(heartbeat, DateTimeKind.Utc))));
            }
        }

        // Every kind the Worker serves, and any other that has work (a kind added later shows up by itself).
        var kinds = JobKinds.Queues.Keys.Concat(active.Select(a => a.Kind)).Concat(data.Select(p => p.Dim1)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        var queues = kinds.Select(kind =>
        {
            var pending = active.Where(a => a.Kind == kind && a.Status == JobStatus.Pending).ToList();
            var runs = data.Where(p => p.Name == MetricNames.JobRuns && p.Dim1 == kind).ToList();
            var pickup = data.Where(p => p.Name == MetricNames.JobPickup && p.Dim1 == kind).ToList();
            return new QueueView(
                kind, JobKinds.Queues.GetValueOrDefault(kind, kind), pending.Sum(a => a.Count),
                active.Where(a => a.Kind == kind && a.Status == JobStatus.Processing).Sum(a => a.Count),
                pending.Count == 0 ? null : Math.Round((now - pending.Min(a => a.Oldest)).TotalSeconds, 1),
                MetricQueries.Percentile(pickup, 0.5), MetricQueries.Percentile(pickup, 0.95), Counts(runs, p => p.Dim2),
                Math.Round(runs.Where(p => p.Dim2 == "completed").Sum(p => p.Count) / (window.Seconds / 60), 3),
                MetricQueries.Percentile(runs.Where(p => p.Dim2 == "completed"), 0.95));
        }).ToList();
        return TypedResults.Ok(new QueuesView(window.Range, window.From, window.To, queues, workers));
    }

    private static Dictionary<string, long> ByClass(IEnumerable<MetricPoint> points) =>
        points.GroupBy(p => p.Dim2).ToDictionary(g => g.Key, g => g.Sum(p => p.Count));

    private static Dictionary<string, long> Counts(IEnumerable<MetricPoint> points, Func<MetricPoint, string>? by = null) =>
        points.GroupBy(by ?? (p => p.Dim2)).ToDictionary(g => g.Key, g => g.Sum(p => p.Count));

    private static ProblemHttpResult BadRange() =>
        Problems.Validation(new() { ["range"] = [$"One of {string.Join(", ", MetricWindow.Ranges)}."] });
}
