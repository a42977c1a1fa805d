using AspireLlm.Api.Audit;
using AspireLlm.Orchestration.Admission;
using Npgsql;

namespace AspireLlm.Api.ApiKeys;

/// <summary>Where a tenant's key defaults come from: its own row, or the configured global defaults.</summary>
public sealed record KeyDefaults(string Source, KeyLimits Limits)
{
    public const string TenantSource = "tenant";
    public const string GlobalSource = "global";
}

/// <summary>Tenant-wide limits, and the limits a tenant's new keys get when their create request does not set them.</summary>
public sealed partial class ApiKeyStore
{
    public async Task SetTenantLimitsAsync(string tenantId, TenantLimits limits, AuditActor actor, CancellationToken cancellationToken)
    {
        await InTransactionAsync(async transaction =>
        {
            await using var command = new NpgsqlCommand("""
                INSERT INTO tenant_limits (tenant_id, requests_per_minute, tokens_per_minute, updated_at) VALUES ($1, $2, $3, $4)
                ON CONFLICT (tenant_id) DO UPDATE SET requests_per_minute = $2, tokens_per_minute = $3, updated_at = $4
                """, transaction.Connection, transaction);
            command.Parameters.AddWithValue(tenantId);
            command.Parameters.Add(new NpgsqlParameter<int?> { TypedValue = limits.RequestsPerMinute });
            command.Parameters.Add(new NpgsqlParameter<int?> { TypedValue = limits.TokensPerMinute });
            command.Parameters.AddWithValue(timeProvider.GetUtcNow());
            await command.ExecuteNonQueryAsync(cancellationToken);
            await audit.AppendAsync(transaction, actor, AuditActions.TenantLimits, AuditActions.TenantTarget(tenantId), new { limits }, cancellationToken);
            return true;
        }, cancellationToken);
        await epoch.BumpAsync();
    }

    /// <summary>The tenant's own key defaults when it has them, otherwise the configured ones (<see cref="KeyDefaultsOptions"/>).</summary>
    public async Task<KeyDefaults> GetKeyDefaultsAsync(string tenantId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT requests_per_minute, tokens_per_minute, daily_token_budget, monthly_token_budget, daily_cost_budget, monthly_cost_budget
            FROM tenant_key_defaults WHERE tenant_id = $1
            """);
        command.Parameters.AddWithValue(tenantId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return new KeyDefaults(KeyDefaults.GlobalSource, keyDefaults.Value.ToLimits());
        }

        T? Nullable<T>(int ordinal) where T : struct => reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<T>(ordinal);
        return new KeyDefaults(KeyDefaults.TenantSource, new KeyLimits(
            null, Nullable<int>(0), Nullable<int>(1), Nullable<long>(2), Nullable<long>(3), Nullable<decimal>(4), Nullable<decimal>(5)));
    }

    /// <summary>Sets the tenant's key defaults (they replace the global ones as a whole: null is no limit), or with null limits removes them.</summary>
    public async Task SetKeyDefaultsAsync(string tenantId, KeyLimits? limits, AuditActor actor, CancellationToken cancellationToken)
    {
        await InTransactionAsync(async transaction =>
        {
            await using var command = new NpgsqlCommand(limits is null
                ? "DELETE FROM tenant_key_defaults WHERE tenant_id = $1"
                : """
                  INSERT INTO tenant_key_defaults (tenant_id, requests_per_minute, tokens_per_minute, daily_token_budget, monthly_token_budget,
                                                   daily_cost_budget, monthly_cost_budget, updated_at)
                  VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                  ON CONFLICT (tenant_id) DO UPDATE SET requests_per_minute = $2, tokens_per_minute = $3, daily_token_budget = $4,
                      monthly_token_budget = $5, daily_cost_budget = $6, monthly_cost_budget = $7, updated_at = $8
                  """, transaction.Connection, transaction);
            command.Parameters.AddWithValue(tenantId);
            if (limits is not null)
            {
                command.Parameters.Add(new NpgsqlParameter<int?> { TypedValue = limits.RequestsPerMinute });
                command.Parameters.Add(new NpgsqlParameter<int?> { TypedValue = limits.TokensPerMinute });
                command.Parameters.Add(new NpgsqlParameter<long?> { TypedValue = limits.DailyTokenBudget });
                command.Parameters.Add(new NpgsqlParameter<long?> { TypedValue = limits.MonthlyTokenBudget });
                command.Parameters.Add(new NpgsqlParameter<decimal?> { TypedValue = limits.DailyCostBudget });
                command.Parameters.Add(new NpgsqlParameter<decimal?> { TypedValue = limits.MonthlyCostBudget });
                command.Parameters.AddWithValue(timeProvider.GetUtcNow());
            }

            await command.ExecuteNonQueryAsync(cancellationToken);
            await audit.AppendAsync(transaction, actor, AuditActions.TenantKeyDefaults, AuditActions.TenantTarget(tenantId),
                limits is null ? (object)new { cleared = true } : new { limits }, cancellationToken);
            return true;
        }, cancellationToken);
    }
}
