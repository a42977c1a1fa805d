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
    NpgsqlDataSource dataSource, TimeProvider timeProvider, IOptions<AdminOptions> admin, KeyCacheEpoch epoch,
    Audit.AuditLog audit, IOptions<KeyDefaultsOptions> keyDefaults, IOptions<FailedAuthenticationOptions> failedAuthentication) : IDisposable
{
    /// <summary>Keys found, and keys not found, each in a cache of bounded size: a flood of made-up keys evicts only made-up keys.</summary>
    private readonly MemoryCache _known = new(new MemoryCacheOptions { SizeLimit = 100_000 });
    private readonly MemoryCache _unknown = new(new MemoryCacheOptions { SizeLimit = failedAuthentication.Value.UnknownKeysRemembered });

    /// <summary>Only a bound for when Redis cannot announce changes; normally the epoch retires entries first.</summary>
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(10);

    private const string Columns = $"k.id, k.tenant_id, k.name, k.prefix, k.is_admin, k.revoked_at, k.is_bootstrap, {KeyLimitsReader.Columns}";

    private const string FromKeys = KeyLimitsReader.From;

    /// <summary>
    /// The key's record, or null when there is none. A key in neither cache is looked up in the database
    /// only if <paramref name="mayLookUp"/> agrees; when it does not, <c>LookupRefused</c> is true.
    /// </summary>
    public async Task<(ApiKeyRecord? Record, bool LookupRefused)> FindAsync(string key, Func<bool> mayLookUp, CancellationToken cancellationToken)
    {
        var hash = ApiKeyFormat.Hash(key);
        var currentEpoch = epoch.Current;
        var cacheKey = $"{currentEpoch}:{Convert.ToBase64String(hash)}";
        if (currentEpoch >= 0 && (_known.TryGetValue(cacheKey, out ApiKeyRecord? cached) || _unknown.TryGetValue(cacheKey, out cached)))
        {
            return (cached, false);
        }

        if (!mayLookUp())
        {
            return (null, true);
        }

        await using var command = dataSource.CreateCommand($"SELECT {Columns} {FromKeys} WHERE k.key_hash = $1");
        command.Parameters.AddWithValue(hash);
        var record = await ReadOneAsync(command, cancellationToken);

        if (record is null && IsBootstrapKey(key))
        {
            // The admin key could not be stored at start (the database was down then): store it now.
            await EnsureBootstrapKeyAsync(cancellationToken);
            return await FindAsync(key, mayLookUp, cancellationToken);
        }

        if (currentEpoch >= 0)
        {
            (record is null ? _unknown : _known).Set(cacheKey, record, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = CacheFor });
        }

        return (record, false);
    }

    /// <summary>The key's record, from a cache or the database; null when there is none.</summary>
    public async Task<ApiKeyRecord?> FindAsync(string key, CancellationToken cancellationToken) =>
        (await FindAsync(key, static () => true, cancellationToken)).Record;

    public void Dispose()
    {
        _known.Dispose();
        _unknown.Dispose();
    }

    private bool IsBootstrapKey(string key) =>
        admin.Value.BootstrapKey is { Length: > 0 } bootstrap
        && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(bootstrap));

    /// <summary>Stores a key if its hash is not stored yet; concurrent replicas may all call this safely.</summary>
    public async Task EnsureAsync(string key, string tenantId, string name, bool isAdmin, CancellationToken cancellationToken, KeyLimits? limits = null)
    {
        await using var command = InsertKey(dataSource.CreateCommand(), Guid.CreateVersion7(), key, tenantId, name, isAdmin, limits ?? KeyLimits.None);
        command.CommandText += " ON CONFLICT (key_hash) DO NOTHING";
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The one insert of a key: its hash and public prefix, never the key itself.</summary>
    private NpgsqlCommand InsertKey(NpgsqlCommand command, Guid id, string key, string tenantId, string name, bool isAdmin, KeyLimits limits)
    {
        command.CommandText = """
            INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash, is_admin, created_at, allowed_models, requests_per_minute,
                                  tokens_per_minute, daily_token_budget, monthly_token_budget, daily_cost_budget, monthly_cost_budget, allowed_tools)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
            """;
        command.Parameters.AddWithValue(id);
        command.Parameters.AddWithValue(tenantId);
        command.Parameters.AddWithValue(name);
        command.Parameters.AddWithValue(ApiKeyFormat.PublicPrefix(key));
        command.Parameters.AddWithValue(ApiKeyFormat.Hash(key));
        command.Parameters.AddWithValue(isAdmin);
        command.Parameters.AddWithValue(timeProvider.GetUtcNow());
        AddLimits(command, limits);
        return command;
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
        command.Parameters.Add(new NpgsqlParameter<string[]?> { TypedValue = limits.AllowedTools?.ToArray() });
    }

    private static async Task<ApiKeyRecord?> ReadOneAsync(NpgsqlCommand command, CancellationToken cancellationToken) =>
        (await ReadAllAsync(command, cancellationToken)).SingleOrDefault();

    private static async Task<List<ApiKeyRecord>> ReadAllAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var records = new List<ApiKeyRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var (limits, tenantLimits) = KeyLimitsReader.Read(reader, first: 7);
            records.Add(new ApiKeyRecord(
                reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetBoolean(4),
                reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5), limits)
            {
                TenantLimits = tenantLimits,
                IsBootstrap = reader.GetBoolean(6),
            });
        }

        return records;
    }
}
