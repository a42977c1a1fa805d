using AspireLlm.Orchestration.Admission;
using Npgsql;

namespace AspireLlm.Api.ApiKeys;

/// <summary>The admin side of the key store: every change is announced to all replicas' caches.</summary>
public sealed partial class ApiKeyStore
{
    /// <summary>Creates a key; the plain key is returned here and never again.</summary>
    public async Task<(ApiKeyRecord Record, string PlainKey)> CreateAsync(
        string tenantId, string name, bool isAdmin, KeyLimits limits, CancellationToken cancellationToken)
    {
        var key = ApiKeyFormat.Generate();
        await EnsureAsync(key, tenantId, name, isAdmin, cancellationToken, limits);
        await using var command = dataSource.CreateCommand($"SELECT {Columns} {FromKeys} WHERE k.key_hash = $1");
        command.Parameters.AddWithValue(ApiKeyFormat.Hash(key));
        return ((await ReadOneAsync(command, cancellationToken))!, key);
    }

    public async Task<IReadOnlyList<ApiKeyRecord>> ListAsync(string? tenantId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            $"SELECT {Columns} {FromKeys} WHERE ($1::text IS NULL OR k.tenant_id = $1) ORDER BY k.created_at DESC LIMIT 1000");
        command.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = tenantId });
        return await ReadAllAsync(command, cancellationToken);
    }

    public async Task<ApiKeyRecord?> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns} {FromKeys} WHERE k.id = $1");
        command.Parameters.AddWithValue(id);
        return await ReadOneAsync(command, cancellationToken);
    }

    /// <summary>Replaces a key's name and limits; null when there is no such key.</summary>
    public async Task<ApiKeyRecord?> UpdateAsync(Guid id, string name, KeyLimits limits, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE api_keys SET name = $2, allowed_models = $3, requests_per_minute = $4, tokens_per_minute = $5,
                daily_token_budget = $6, monthly_token_budget = $7, daily_cost_budget = $8, monthly_cost_budget = $9
            WHERE id = $1
            """);
        command.Parameters.AddWithValue(id);
        command.Parameters.AddWithValue(name);
        AddLimits(command, limits);
        if (await command.ExecuteNonQueryAsync(cancellationToken) == 0)
        {
            return null;
        }

        await epoch.BumpAsync();
        return await GetAsync(id, cancellationToken);
    }

    /// <summary>Revokes a key on every replica within a second; false when there is no such key.</summary>
    public async Task<bool> RevokeAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1");
        command.Parameters.AddWithValue(id);
        command.Parameters.AddWithValue(timeProvider.GetUtcNow());
        if (await command.ExecuteNonQueryAsync(cancellationToken) == 0)
        {
            return false;
        }

        await epoch.BumpAsync();
        return true;
    }

    public async Task SetTenantLimitsAsync(string tenantId, TenantLimits limits, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO tenant_limits (tenant_id, requests_per_minute, tokens_per_minute, updated_at) VALUES ($1, $2, $3, $4)
            ON CONFLICT (tenant_id) DO UPDATE SET requests_per_minute = $2, tokens_per_minute = $3, updated_at = $4
            """);
        command.Parameters.AddWithValue(tenantId);
        command.Parameters.Add(new NpgsqlParameter<int?> { TypedValue = limits.RequestsPerMinute });
        command.Parameters.Add(new NpgsqlParameter<int?> { TypedValue = limits.TokensPerMinute });
        command.Parameters.AddWithValue(timeProvider.GetUtcNow());
        await command.ExecuteNonQueryAsync(cancellationToken);
        await epoch.BumpAsync();
    }
}
