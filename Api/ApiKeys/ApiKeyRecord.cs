namespace AspireLlm.Api.ApiKeys;

/// <summary>A stored API key: the tenant it acts for, whether it may use the admin endpoints, and its limits.</summary>
public sealed record ApiKeyRecord(
    Guid Id, string TenantId, string Name, string Prefix, bool IsAdmin, DateTimeOffset? RevokedAt, KeyLimits Limits)
{
    /// <summary>The tenant-wide rate limits, shared by all of the tenant's keys.</summary>
    public TenantLimits TenantLimits { get; init; } = TenantLimits.None;
}

/// <summary>What one key may do; null means no limit of that kind.</summary>
public sealed record KeyLimits(
    IReadOnlyList<string>? AllowedModels = null,
    int? RequestsPerMinute = null,
    int? TokensPerMinute = null,
    long? DailyTokenBudget = null,
    long? MonthlyTokenBudget = null,
    decimal? DailyCostBudget = null,
    decimal? MonthlyCostBudget = null)
{
    public static KeyLimits None { get; } = new();

    public bool Allows(string alias) => AllowedModels is null || AllowedModels.Contains(alias, StringComparer.Ordinal);
}

/// <summary>Rate limits across all of a tenant's keys.</summary>
public sealed record TenantLimits(int? RequestsPerMinute = null, int? TokensPerMinute = null)
{
    public static TenantLimits None { get; } = new();
}
