using AspireLlm.Api.Audit;
using AspireLlm.Orchestration.Admission;
using Npgsql;

namespace AspireLlm.Api.ApiKeys;

/// <summary>
/// The admin side of the key store: every change is written with its audit row in one transaction,
/// and announced to all replicas' caches after it commits.
/// </summary>
public sealed partial class ApiKeyStore
{
    /// <summary>Creates a key; the plain key is returned here and never again.</summary>
    public async Task<(ApiKeyRecord Record, string PlainKey)> CreateAsync(
        string tenantId, string name, bool isAdmin, KeyLimits limits, AuditActor actor, CancellationToken cancellationToken)
    {
        var key = ApiKeyFormat.Generate();
        var id = Guid.CreateVersion7();
        await InTransactionAsync(async transaction =>
        {
            await using var command = InsertKey(new NpgsqlCommand(null, transaction.Connection, transaction), id, key, tenantId, name, isAdmin, limits);
            await command.ExecuteNonQueryAsync(cancellationToken);
            await audit.AppendAsync(transaction, actor, AuditActions.KeyCreate, AuditActions.KeyTarget(id),
                new { tenant_id = tenantId, name, is_admin = isAdmin, prefix = ApiKeyFormat.PublicPrefix(key), limits }, cancellationToken);
            return true;
        }, cancellationToken);
        return ((await GetAsync(id, cancellationToken))!, key);
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

    /// <summary>
    /// Replaces a key's name and limits; null when there is no such key. The audit row says which
    /// fields changed, from what to what; a call that changes nothing writes none.
    /// </summary>
    public async Task<ApiKeyRecord?> UpdateAsync(Guid id, string name, Func<KeyLimits, KeyLimits> limitsFrom, AuditActor actor, CancellationToken cancellationToken)
    {
        var found = await InTransactionAsync(async transaction =>
        {
            await using var read = new NpgsqlCommand($"SELECT {Columns} {FromKeys} WHERE k.id = $1 FOR UPDATE OF k", transaction.Connection, transaction);
            read.Parameters.AddWithValue(id);
            if (await ReadOneAsync(read, cancellationToken) is not { } before)
            {
                return false;
            }

            var limits = limitsFrom(before.Limits);
            await using var command = new NpgsqlCommand("""
                UPDATE api_keys SET name = $2, allowed_models = $3, requests_per_minute = $4, tokens_per_minute = $5,
                    daily_token_budget = $6, monthly_token_budget = $7, daily_cost_budget = $8, monthly_cost_budget = $9, allowed_tools = $10
                WHERE id = $1
                """, transaction.Connection, transaction);
            command.Parameters.AddWithValue(id);
            command.Parameters.AddWithValue(name);
            AddLimits(command, limits);
            await command.ExecuteNonQueryAsync(cancellationToken);

            var changes = KeyChanges.Between(before.Name, before.Limits, name, limits);
            if (changes.Count > 0)
            {
                await audit.AppendAsync(transaction, actor, AuditActions.KeyUpdate, AuditActions.KeyTarget(id), new { changes }, cancellationToken);
            }

            return true;
        }, cancellationToken);
        if (!found)
        {
            return null;
        }

        await epoch.BumpAsync();
        return await GetAsync(id, cancellationToken);
    }

    /// <summary>Runs <paramref name="work"/> in a transaction on one connection, and commits it.</summary>
    private async Task<T> InTransactionAsync<T>(Func<NpgsqlTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var result = await work(transaction);
        await transaction.CommitAsync(cancellationToken);
        return result;
    }
}
