using System.ComponentModel.DataAnnotations;
using AspireLlm.Orchestration.Admission;

namespace AspireLlm.Api.ApiKeys;

/// <summary>
/// The limits a new key gets for every limit its create request does not set, when its tenant has no
/// defaults of its own (<c>PUT /v1/admin/tenants/{tenant}/key-defaults</c>). An empty value means no
/// limit of that kind.
/// </summary>
public sealed class KeyDefaultsOptions
{
    public const string SectionName = "ApiKeys:DefaultLimits";

    [Range(1, int.MaxValue)]
    public int? RequestsPerMinute { get; set; } = 600;

    [Range(1, int.MaxValue)]
    public int? TokensPerMinute { get; set; } = 1_000_000;

    [Range(1L, long.MaxValue)]
    public long? DailyTokenBudget { get; set; }

    [Range(1L, long.MaxValue)]
    public long? MonthlyTokenBudget { get; set; }

    [Range(0.000001, 1e12)]
    public decimal? DailyCostBudget { get; set; }

    [Range(0.000001, 1e12)]
    public decimal? MonthlyCostBudget { get; set; }

    public KeyLimits ToLimits() => new(
        null, RequestsPerMinute, TokensPerMinute, DailyTokenBudget, MonthlyTokenBudget, DailyCostBudget, MonthlyCostBudget);
}
