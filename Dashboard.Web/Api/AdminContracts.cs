using System.Text.Json;

namespace AspireLlm.Dashboard.Web.Api;

// What the Api's admin endpoints answer, as the dashboard reads them (snake_case on the wire).

public sealed record OverviewPoint(DateTimeOffset Time, long Requests, Dictionary<string, long> ByClass, double? P50, double? P95, double? P99, double Tokens, double Cost);

public sealed record CacheFigures(string Kind, long Hits, long Misses, long Bypassed, double? HitRatio);

public sealed record OverviewTotals(
    long Requests, double RequestsPerSecond, Dictionary<string, long> ByClass, double ErrorRate4xx, double ErrorRate5xx,
    long ChatRequests, double? ChatP50, double? ChatP95, double? ChatP99, double Tokens, double TokensPerSecond, double Cost, double CostPerHour);

public sealed record OverviewReport(string Range, DateTimeOffset From, DateTimeOffset To, int StepSeconds, OverviewTotals Totals, List<OverviewPoint> Points, List<CacheFigures> Caches);

public sealed record Transition(DateTimeOffset Time, string State, long Count);

public sealed record DeploymentFigures(
    string Deployment, string Provider, string Model, List<string> Aliases, string State, double RetryAfterSeconds,
    long Attempts, Dictionary<string, long> Outcomes, Dictionary<string, long> Retries, Dictionary<string, long> Fallbacks,
    double? LatencyP50, double? LatencyP95, double? TtftP50, double? TtftP95, double InputTokens, double OutputTokens, double Cost,
    List<Transition> Transitions);

public sealed record ProvidersReport(string Range, DateTimeOffset From, DateTimeOffset To, List<DeploymentFigures> Deployments);

public sealed record QueueFigures(
    string Kind, string Queue, long Pending, long Running, double? OldestPendingSeconds, double? PickupP50, double? PickupP95,
    Dictionary<string, long> Runs, double RunsPerMinute, double? DurationP95);

public sealed record WorkerFigures(string Server, List<string> Queues, int WorkerCount, long Running, DateTimeOffset? StartedAt, DateTimeOffset LastHeartbeat);

public sealed record QueuesReport(string Range, DateTimeOffset From, DateTimeOffset To, List<QueueFigures> Items, List<WorkerFigures> Workers);

public sealed record UsageRow(string Group, string Label, string TenantId, long Requests, long InputTokens, long OutputTokens, decimal Cost);

public sealed record UsageDay(DateOnly Day, long Requests, long InputTokens, long OutputTokens, decimal Cost);

public sealed record UsageBudget(long? DailyTokenBudget, long? MonthlyTokenBudget, decimal? DailyCostBudget, decimal? MonthlyCostBudget);

public sealed record UsageReport(DateOnly From, DateOnly To, string GroupBy, UsageDay Total, int Groups, List<UsageRow> Rows, List<UsageDay> Days, UsageBudget? Budget);

/// <summary>Which usage to read; every filter may be left out.</summary>
public sealed record UsageFilter(
    DateOnly? From = null, DateOnly? To = null, string GroupBy = "key", string? TenantId = null, Guid? KeyId = null, string? ModelAlias = null,
    string? Deployment = null, int Limit = 1000);

public sealed record KeyUsage(Guid KeyId, long TokensToday, decimal CostToday, long TokensThisMonth, decimal CostThisMonth);

public sealed record AuditEntry(
    long Id, DateTimeOffset OccurredAt, Guid? ActorKeyId, string ActorPrefix, string Action, string Target, JsonElement Details,
    string? ClientAddress, string? ForwardedFor);

public sealed record AuditPage(List<AuditEntry> Items, long? NextBefore);

/// <summary>Which jobs to list; every filter may be left out.</summary>
public sealed record JobFilter(string? TenantId = null, string? Kind = null, string? Status = null, DateTimeOffset? From = null, DateTimeOffset? To = null);

/// <summary>A key to create, or the limits to change on one (null: no limit of that kind).</summary>
public sealed record KeyLimitsForm
{
    public string TenantId { get; set; } = "";

    public string Name { get; set; } = "";

    public bool IsAdmin { get; set; }

    public string AllowedModels { get; set; } = "";

    /// <summary>Agent tools the key may call, comma-separated (empty: every tool its agents have).</summary>
    public string AllowedTools { get; set; } = "";

    public int? RequestsPerMinute { get; set; }

    public int? TokensPerMinute { get; set; }

    public long? DailyTokenBudget { get; set; }

    public long? MonthlyTokenBudget { get; set; }

    public decimal? DailyCostBudget { get; set; }

    public decimal? MonthlyCostBudget { get; set; }
}
