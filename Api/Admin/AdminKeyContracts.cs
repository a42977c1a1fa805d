using AspireLlm.Api.ApiKeys;
using AspireLlm.Orchestration.Admission;
using AspireLlm.Orchestration.Embeddings;
using AspireLlm.Orchestration.Routing;

namespace AspireLlm.Api.Admin;

/// <summary>
/// The limits part of a key request. A field that is sent sets that limit (null: no limit of that
/// kind); a field that is left out keeps what the key has, or on creation gets the tenant's default.
/// </summary>
public record KeyLimitsRequest
{
    // Which fields the JSON held: the deserializer calls a property's setter only for what it finds.
    private Sent _sent;

    public IReadOnlyList<string>? AllowedModels { get; init { field = value; _sent |= Sent.AllowedModels; } }

    public int? RequestsPerMinute { get; init { field = value; _sent |= Sent.RequestsPerMinute; } }

    public int? TokensPerMinute { get; init { field = value; _sent |= Sent.TokensPerMinute; } }

    public long? DailyTokenBudget { get; init { field = value; _sent |= Sent.DailyTokenBudget; } }

    public long? MonthlyTokenBudget { get; init { field = value; _sent |= Sent.MonthlyTokenBudget; } }

    public decimal? DailyCostBudget { get; init { field = value; _sent |= Sent.DailyCostBudget; } }

    public decimal? MonthlyCostBudget { get; init { field = value; _sent |= Sent.MonthlyCostBudget; } }

    /// <summary>The agent tools the key may use (null: every tool its agents have).</summary>
    public IReadOnlyList<string>? AllowedTools { get; init { field = value; _sent |= Sent.AllowedTools; } }

    /// <summary>The limits as sent, a field left out as null (what validation checks).</summary>
    public KeyLimits Limits() => new(
        AllowedModels, RequestsPerMinute, TokensPerMinute, DailyTokenBudget, MonthlyTokenBudget, DailyCostBudget, MonthlyCostBudget, AllowedTools);

    /// <summary>The limits sent, each field left out taken from <paramref name="fallback"/>.</summary>
    public KeyLimits Over(KeyLimits fallback) => new(
        _sent.HasFlag(Sent.AllowedModels) ? AllowedModels : fallback.AllowedModels,
        _sent.HasFlag(Sent.RequestsPerMinute) ? RequestsPerMinute : fallback.RequestsPerMinute,
        _sent.HasFlag(Sent.TokensPerMinute) ? TokensPerMinute : fallback.TokensPerMinute,
        _sent.HasFlag(Sent.DailyTokenBudget) ? DailyTokenBudget : fallback.DailyTokenBudget,
        _sent.HasFlag(Sent.MonthlyTokenBudget) ? MonthlyTokenBudget : fallback.MonthlyTokenBudget,
        _sent.HasFlag(Sent.DailyCostBudget) ? DailyCostBudget : fallback.DailyCostBudget,
        _sent.HasFlag(Sent.MonthlyCostBudget) ? MonthlyCostBudget : fallback.MonthlyCostBudget,
        _sent.HasFlag(Sent.AllowedTools) ? AllowedTools : fallback.AllowedTools);

    [Flags]
    private enum Sent
    {
        None = 0,
        AllowedModels = 1,
        RequestsPerMinute = 2,
        TokensPerMinute = 4,
        DailyTokenBudget = 8,
        MonthlyTokenBudget = 16,
        DailyCostBudget = 32,
        MonthlyCostBudget = 64,
        AllowedTools = 128,
    }
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

/// <summary>A tenant's key defaults: every field replaces the global default (null or left out: no limit of that kind).</summary>
public sealed record KeyDefaultsRequest(
    int? RequestsPerMinute, int? TokensPerMinute, long? DailyTokenBudget, long? MonthlyTokenBudget, decimal? DailyCostBudget, decimal? MonthlyCostBudget)
{
    public KeyLimits Limits() => new(null, RequestsPerMinute, TokensPerMinute, DailyTokenBudget, MonthlyTokenBudget, DailyCostBudget, MonthlyCostBudget);
}

/// <summary>The limits a tenant's new keys get, and whether they are the tenant's own or the global ones.</summary>
public sealed record KeyDefaultsView(string TenantId, string Source, KeyLimits Limits);

/// <summary>
/// A key as admins see it: never the key itself, only its public prefix; its limits as they apply
/// (defaults were resolved when it was created); whether it is the configured bootstrap key.
/// </summary>
public sealed record KeyView(
    Guid Id, string TenantId, string Name, string Prefix, bool IsAdmin, bool Revoked, KeyLimits Limits, TenantLimits TenantLimits, bool IsBootstrap)
{
    public static KeyView From(ApiKeyRecord record) => new(
        record.Id, record.TenantId, record.Name, record.Prefix, record.IsAdmin, record.RevokedAt is not null, record.Limits, record.TenantLimits,
        record.IsBootstrap);
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

        if (limits.AllowedTools?.Where(tool => !Orchestration.Agents.AgentToolNames.IsValidPattern(tool)).ToList() is { Count: > 0 } badTools)
        {
            errors["allowed_tools"] = [$"Not tool names: {string.Join(", ", badTools)} (ask_user, http_get, or an MCP server's tool as server_tool or server_*)."];
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
