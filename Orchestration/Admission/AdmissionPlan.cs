using System.Globalization;

namespace AspireLlm.Orchestration.Admission;

/// <summary>Every limit one call must pass, with the Redis key that counts it and what the call takes from it.</summary>
internal sealed class AdmissionPlan
{
    public const long CostUnitsPerDollar = 100_000_000; // budgets count in 1e-8 USD, the ledger's precision
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    // At most four of each (key and tenant, requests and tokens; day and month, tokens and cost).
    public List<Counter> Counters { get; } = new(4);

    public List<Budget> Budgets { get; } = new(4);

    public long EstimatedTokens { get; private set; }

    public long ReservedCostUnits { get; private set; }

    public DateTimeOffset WindowEnds { get; private set; }

    public bool IsEmpty => Counters.Count == 0 && Budgets.Count == 0;

    public static AdmissionPlan For(AdmissionSubject caller, AdmissionRequest request, DateTimeOffset now)
    {
        var minute = now.ToUnixTimeSeconds() / 60;
        var plan = new AdmissionPlan
        {
            EstimatedTokens = request.EstimatedPromptTokens + (long)request.MaxOutputTokens,
            ReservedCostUnits = (long)Math.Ceiling(request.WorstCaseCost * CostUnitsPerDollar),
            WindowEnds = DateTimeOffset.FromUnixTimeSeconds((minute + 1) * 60),
        };

        var keyScope = $"aspirellm:rl:key:{caller.KeyId:N}";
        var tenantScope = $"aspirellm:rl:tenant:{caller.TenantId}";
        plan.AddCounter(LimitKind.Requests, "this key's requests per minute", $"{keyScope}:req:{minute}", caller.Limits.RequestsPerMinute, 1);
        plan.AddCounter(LimitKind.Tokens, "this key's tokens per minute", $"{keyScope}:tok:{minute}", caller.Limits.TokensPerMinute, plan.EstimatedTokens);
        plan.AddCounter(LimitKind.Requests, "the tenant's requests per minute", $"{tenantScope}:req:{minute}", caller.TenantLimits.RequestsPerMinute, 1);
        plan.AddCounter(LimitKind.Tokens, "the tenant's tokens per minute", $"{tenantScope}:tok:{minute}", caller.TenantLimits.TokensPerMinute, plan.EstimatedTokens);

        var day = now.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        var month = now.UtcDateTime.ToString("yyyyMM", CultureInfo.InvariantCulture);
        var dayEnds = new DateTimeOffset(now.UtcDateTime.Date.AddDays(1), TimeSpan.Zero);
        var monthEnds = new DateTimeOffset(new DateTime(now.Year, now.Month, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths(1), TimeSpan.Zero);
        var budgetScope = $"aspirellm:budget:key:{caller.KeyId:N}";
        plan.AddBudget(false, "daily token budget", $"{budgetScope}:tokens:d:{day}", caller.Limits.DailyTokenBudget, plan.EstimatedTokens, dayEnds - now);
        plan.AddBudget(false, "monthly token budget", $"{budgetScope}:tokens:m:{month}", caller.Limits.MonthlyTokenBudget, plan.EstimatedTokens, monthEnds - now);
        plan.AddBudget(true, "daily cost budget", $"{budgetScope}:cost:d:{day}", Units(caller.Limits.DailyCostBudget), plan.ReservedCostUnits, dayEnds - now);
        plan.AddBudget(true, "monthly cost budget", $"{budgetScope}:cost:m:{month}", Units(caller.Limits.MonthlyCostBudget), plan.ReservedCostUnits, monthEnds - now);
        return plan;
    }

    private static long? Units(decimal? dollars) => dollars is { } value ? (long)(value * CostUnitsPerDollar) : null;

    private void AddCounter(LimitKind kind, string name, string key, long? limit, long amount)
    {
        if (limit is { } value)
        {
            Counters.Add(new Counter(kind, name, key, value, amount, Window * 2));
        }
    }

    private void AddBudget(bool isCost, string name, string key, long? limit, long amount, TimeSpan resetsIn)
    {
        if (limit is { } value)
        {
            // Kept a day past its period, for the dashboard's "yesterday" and "last month".
            Budgets.Add(new Budget(isCost, name, key, value, amount, resetsIn, resetsIn + TimeSpan.FromDays(1)));
        }
    }

    internal enum LimitKind
    {
        Requests,
        Tokens,
    }

    internal sealed record Counter(LimitKind Kind, string Name, string Key, long Limit, long Amount, TimeSpan TimeToLive);

    internal sealed record Budget(bool IsCost, string Name, string Key, long Limit, long Amount, TimeSpan ResetsIn, TimeSpan TimeToLive);
}
