using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AspireLlm.Api.ApiKeys;

/// <summary>
/// Looks keys up by hash. Results are cached briefly in memory so that a burst of requests with one
/// key costs one database round trip, not one each.
/// </summary>
public sealed class ApiKeyStore(NpgsqlDataSource dataSource, IMemoryCache cache, TimeProvider timeProvider, IOptions<AdminOptions> admin)
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(5);

    public async Task<ApiKeyRecord?> FindAsync(string key, CancellationToken cancellationToken)
    {
        var hash = ApiKeyFormat.Hash(key);
        var cacheKey = "api-key:" + Convert.ToBase64String(hash);
        if (cache.TryGetValue(cacheKey, out ApiKeyRecord? cached))
        {
            return cached;
        }

        await using var command = dataSource.CreateCommand(
            "SELECT id, tenant_id, name, prefix, is_admin, revoked_at FROM api_keys WHERE key_hash = $1");
        command.Parameters.AddWithValue(hash);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        ApiKeyRecord? record = null;
        if (await reader.ReadAsync(cancellationToken))
        {
            record = new ApiKeyRecord(
                reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetBoolean(4),
                reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5));
        }

        if (record is null && IsBootstrapKey(key))
        {
            // The admin key could not be stored at start (the database was down then): store it now.
            await EnsureBootstrapKeyAsync(cancellationToken);
            return await FindAsync(key, cancellationToken);
        }

        cache.Set(cacheKey, record, CacheFor);
        return record;
    }

    public Task EnsureBootstrapKeyAsync(CancellationToken cancellationToken) =>
        EnsureAsync(admin.Value.BootstrapKey!, admin.Value.Tenant, "bootstrap admin", isAdmin: true, cancellationToken);

    private bool IsBootstrapKey(string key) =>
        admin.Value.BootstrapKey is { Length: > 0 } bootstrap
        && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(bootstrap));

    /// <summary>Stores a key if its hash is not stored yet; concurrent replicas may all call this safely.</summary>
    public async Task EnsureAsync(string key, string tenantId, string name, bool isAdmin, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash, is_admin, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT (key_hash) DO NOTHING
            """);
        command.Parameters.AddWithValue(Guid.CreateVersion7());
        command.Parameters.AddWithValue(tenantId);
        command.Parameters.AddWithValue(name);
        command.Parameters.AddWithValue(ApiKeyFormat.PublicPrefix(key));
        command.Parameters.AddWithValue(ApiKeyFormat.Hash(key));
        command.Parameters.AddWithValue(isAdmin);
        command.Parameters.AddWithValue(timeProvider.GetUtcNow());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
