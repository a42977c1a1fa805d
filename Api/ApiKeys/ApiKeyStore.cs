using System.Security.Cryptography;
using System.Text;
using AspireLlm.Orchestration.Admission;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AspireLlm.Api.ApiKeys;

/// <summary>
/// Looks keys up by hash, and creates, lists, changes and revokes them. Lookups are cached in memory
/// so that requests with a known key cost no database round trip; the cache is keyed by
/// <see cref="KeyCacheEpoch"/>, so a change made on any replica reaches all of them within a second.
/// </summary>
public sealed partial class ApiKeyStore(
    NpgsqlDataSource dataSource, IMemoryCache cache, TimeProvider timeProvider, IOptions<AdminOptions> admin, KeyCacheEpoch epoch,
    Audit.AuditLog audit, IOptions<KeyDefaultsOptions> keyDefaults)
{
    /// <summary>Only a bound for when Redis cannot announce changes; normally the epoch retires entries first.</summary>
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(10);

    private const string Columns = """
        k.id, k.tenant_id, k.name, k.prefix, k.is_admin, k.revoked_at, k.allowed_models, k.requests_per_minute, k.tokens_per_minute,
        k.daily_token_budget, k.monthly_token_budget, k.daily_cost_budget, k.monthly_cost_budget, t.requests_per_minute, t.tokens_per_minute,
        k.is_bootstrap
        """;

    private const string FromKeys = "FROM api_keys k LEFT JOIN tenant_limits t ON t.tenant_id = k.tenant_id";

    public async Task<ApiKeyRecord?> FindAsync(string key, CancellationToken cancellationToken)
    {
        var hash = ApiKeyFormat.Hash(key);
        var currentEpoch = epoch.Current;
        var cacheKey = $"api-key:{currentEpoch}:{Convert.ToBase64String(hash)}";
        if (currentEpoch >= 0 && cache.TryGetValue(cacheKey, out ApiKeyRecord? cached))
        {
            return cached;
        }

        await using var command = dataSource.CreateCommand($"SELECT {Columns} {FromKeys} WHERE k.key_hash = $1");
        command.Parameters.AddWithValue(hash);
        var record = await ReadOneAsync(command, cancellationToken);

        if (record is null && IsBootstrapKey(key))
        {
            // The admin key could not be stored at start (the database was down then): store it now.
            await EnsureBootstrapKeyAsync(cancellationToken);
            return await FindAsync(key, cancellationToken);
        }

        if (currentEpoch >= 0)
        {
            cache.Set(cacheKey, record, CacheFor);
        }

        return record;
    }

    private bool IsBootstrapKey(string key) =>
        admin.Value.BootstrapKey is { Length: > 0 } bootstrap
        && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(bootstrap));

    /// <summary>Stores a key if its hash is not stored yet; concurrent replicas may all call this safely.</summary>
    public async Task EnsureAsync(string key, string tenantId, string name, bool isAdmin, CancellationToken cancellationToken, KeyLimits? limits = null)
    {
        limits ??= KeyLimits.None;
        await using var command = dataSource.CreateCommand("""
            INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash, is_admin, created_at, allowed_models, requests_per_minute,
                                  tokens_per_minute, daily_token_budget, monthly_token_budget, daily_cost_budget, monthly_cost_budget)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
            ON CONFLICT (key_hash) DO NOTHING
            """);
        command.Parameters.AddWithValue(Guid.CreateVersion7());
        command.Parameters.AddWithValue(tenantId);
        command.Parameters.AddWithValue(name);
        command.Parameters.AddWithValue(ApiKeyFormat.PublicPrefix(key));
        command.Parameters.AddWithValue(ApiKeyFormat.Hash(key));
        command.Parameters.AddWithValue(isAdmin);
        command.Parameters.AddWithValue(timeProvider.GetUtcNow());
        AddLimits(command, limits);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static void AddLimits(NpgsqlCommand command, KeyLimits limits)
    {
        command.Parameters.Add(new NpgsqlParameter<string[]?> { TypedValue = limits.AllowedModels?.ToArray() });
        command.Parameters.Add(new NpgsqlParameter<int?> { TypedValue = limits.RequestsPerMinute });
        command.Parameters.Add(new NpgsqlParameter<int?> { TypedValue = limits.TokensPerMinute });
        command.Parameters.Add(new NpgsqlParameter<long?> { TypedValue = limits.DailyTokenBudget });
        command.Parameters.Add(new NpgsqlParameter<long?> { TypedValue = limits.MonthlyTokenBudget });
        command.Parameters.Add(new NpgsqlParameter<decimal?> { TypedValue = limits.DailyCostBudget });
        command.Parameters.Add(new NpgsqlParameter<decimal?> { TypedValue = limits.MonthlyCostBudget });
    }

    private static async Task<ApiKeyRecord?> ReadOneAsync(NpgsqlCommand command, CancellationToken cancellationToken) =>
        (await ReadAllAsync(command, cancellationToken)).SingleOrDefault();

    private static async Task<List<ApiKeyRecord>> ReadAllAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var records = new List<ApiKeyRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            T? Nullable<T>(int ordinal) where T : struct => reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<T>(ordinal);
            records.Add(new ApiKeyRecord(
                reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetBoolean(4),
                Nullable<DateTimeOffset>(5),
                new KeyLimits(
                    reader.IsDBNull(6) ? null : reader.GetFieldValue<string[]>(6),
                    Nullable<int>(7), Nullable<int>(8), Nullable<long>(9), Nullable<long>(10), Nullable<decimal>(11), Nullable<decimal>(12)))
            {
                TenantLimits = new TenantLimits(Nullable<int>(13), Nullable<int>(14)),
                IsBootstrap = reader.GetBoolean(15),
            });
        }

        return records;
    }
}
