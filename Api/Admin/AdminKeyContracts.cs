using AspireLlm.Api.ApiKeys;
using AspireLlm.Orchestration.Admission;
using AspireLlm.Orchestration.Embeddings;
using AspireLlm.Orchestration.Routing;

namespace AspireLlm.Api.Admin;

/// <summary>The limits part of a key request; null fields mean no limit of that kind.</summary>
public record KeyLimitsRequest
{
    public IReadOnlyList<string>? AllowedModels { get; init; }

    public int? RequestsPerMinute { get; init; }

    public int? TokensPerMinute { get; init; }

    public long? DailyTokenBudget { get; init; }

    public long? MonthlyTokenBudget { get; init; }

    public decimal? DailyCostBudget { get; init; }

    public decimal? MonthlyCostBudget { get; init; }

    public KeyLimits Limits() => new(
        AllowedModels, RequestsPerMinute, TokensPerMinute, DailyTokenBudget, MonthlyTokenBudget, DailyCostBudget, MonthlyCostBudget);
}

public sealed record CreateKeyRequest : KeyLimitsRequest
{
    public string? TenantId { get; init; }

    public string? Name { get; init; }

    public bool IsAdmin { get; init; }
}

public sealed record UpdateKeyRequest : KeyLimitsRequest
{
    public string? Name { get; init; }
}

public sealed record TenantLimitsRequest(int? RequestsPerMinute, int? TokensPerMinute);

/// <summary>A key as admins see it: never the key itself, only its public prefix.</summary>
public sealed record KeyView(
    Guid Id, string TenantId, string Name, string Prefix, bool IsAdmin, bool Revoked, KeyLimits Limits, TenantLimits TenantLimits)
{
    public static KeyView From(ApiKeyRecord record) => new(
        record.Id, record.TenantId, record.Name, record.Prefix, record.IsAdmin, record.RevokedAt is not null, record.Limits, record.TenantLimits);
}

/// <summary>The answer to creating a key: the plain key, shown this once.</summary>
public sealed record CreatedKeyView(string Key, KeyView Details);

internal static class KeyLimitsValidation
{
    public static Dictionary<string, string[]> Validate(this KeyLimits limits, ModelCatalog models, EmbeddingCatalog embeddings)
    {
        var errors = new Dictionary<string, string[]>();
        if (limits.AllowedModels?.Where(alias => !models.IsKnown(alias) && !embeddings.IsKnown(alias)).ToList() is { Count: > 0 } unknown)
        {
            errors["allowed_models"] = [$"Unknown model aliases: {string.Join(", ", unknown)} (known: {string.Join(", ", models.Aliases.Concat(embeddings.Aliases))})."];
        }

        AdminKeysEndpoints.Positive(errors, "requests_per_minute", limits.RequestsPerMinute);
        AdminKeysEndpoints.Positive(errors, "tokens_per_minute", limits.TokensPerMinute);
        AdminKeysEndpoints.Positive(errors, "daily_token_budget", limits.DailyTokenBudget);
        AdminKeysEndpoints.Positive(errors, "monthly_token_budget", limits.MonthlyTokenBudget);
        AdminKeysEndpoints.Positive(errors, "daily_cost_budget", limits.DailyCostBudget);
        AdminKeysEndpoints.Positive(errors, "monthly_cost_budget", limits.MonthlyCostBudget);
        return errors;
    }
}
