using Npgsql;

namespace AspireLlm.Orchestration.Admission;

/// <summary>
/// The one place a key's limits and its tenant's are read from the database, for the Api's key
/// lookups and the Worker's jobs alike: select <see cref="Columns"/> (<see cref="ColumnCount"/> of
/// them) <see cref="From"/> the keys, then <see cref="Read"/> them from the first of their ordinals.
/// </summary>
public static class KeyLimitsReader
{
    public const string Columns = """
        k.allowed_models, k.requests_per_minute, k.tokens_per_minute, k.daily_token_budget, k.monthly_token_budget,
        k.daily_cost_budget, k.monthly_cost_budget, t.requests_per_minute, t.tokens_per_minute, k.allowed_tools
        """;

    public const int ColumnCount = 10;

    /// <summary>The keys table (as <c>k</c>) with its tenant's limits (as <c>t</c>).</summary>
    public const string From = "FROM api_keys k LEFT JOIN tenant_limits t ON t.tenant_id = k.tenant_id";

    public static (KeyLimits Key, TenantLimits Tenant) Read(NpgsqlDataReader reader, int first)
    {
        T? Nullable<T>(int offset) where T : struct => reader.IsDBNull(first + offset) ? null : reader.GetFieldValue<T>(first + offset);
        var key = new KeyLimits(
            reader.IsDBNull(first) ? null : reader.GetFieldValue<string[]>(first),
            Nullable<int>(1), Nullable<int>(2), Nullable<long>(3), Nullable<long>(4), Nullable<decimal>(5), Nullable<decimal>(6),
            reader.IsDBNull(first + 9) ? null : reader.GetFieldValue<string[]>(first + 9));
        return (key, new TenantLimits(Nullable<int>(7), Nullable<int>(8)));
    }
}
