using AspireLlm.Orchestration.Admission;

namespace AspireLlm.Api.ApiKeys;

/// <summary>What a key change changed, for its audit row: each field that differs, from and to (no secrets here).</summary>
internal static class KeyChanges
{
    public sealed record Change(object? From, object? To);

    public static Dictionary<string, Change> Between(string nameBefore, KeyLimits before, string nameAfter, KeyLimits after)
    {
        var changes = new Dictionary<string, Change>(StringComparer.Ordinal);
        Add(changes, "name", nameBefore, nameAfter);
        if (!(before.AllowedModels ?? []).SequenceEqual(after.AllowedModels ?? [], StringComparer.Ordinal)
            || (before.AllowedModels is null) != (after.AllowedModels is null))
        {
            changes["allowed_models"] = new Change(before.AllowedModels, after.AllowedModels);
        }

        if (!(before.AllowedTools ?? []).SequenceEqual(after.AllowedTools ?? [], StringComparer.Ordinal)
            || (before.AllowedTools is null) != (after.AllowedTools is null))
        {
            changes["allowed_tools"] = new Change(before.AllowedTools, after.AllowedTools);
        }

        Add(changes, "requests_per_minute", before.RequestsPerMinute, after.RequestsPerMinute);
        Add(changes, "tokens_per_minute", before.TokensPerMinute, after.TokensPerMinute);
        Add(changes, "daily_token_budget", before.DailyTokenBudget, after.DailyTokenBudget);
        Add(changes, "monthly_token_budget", before.MonthlyTokenBudget, after.MonthlyTokenBudget);
        Add(changes, "daily_cost_budget", before.DailyCostBudget, after.DailyCostBudget);
        Add(changes, "monthly_cost_budget", before.MonthlyCostBudget, after.MonthlyCostBudget);
        return changes;
    }

    private static void Add<T>(Dictionary<string, Change> changes, string field, T before, T after)
    {
        if (!EqualityComparer<T>.Default.Equals(before, after))
        {
            changes[field] = new Change(before, after);
        }
    }
}
