using AspireLlm.Api.Audit;
using Npgsql;

namespace AspireLlm.Api.ApiKeys;

/// <summary>What storing the bootstrap key changed: stored for the first time, restored (it had been revoked), how many previous ones were revoked.</summary>
public sealed record BootstrapResult(bool Stored, bool Restored, IReadOnlyList<string> RotatedPrefixes)
{
    public bool Changed => Stored || Restored || RotatedPrefixes.Count > 0;
}

/// <summary>
/// The configured admin key (<c>Admin:BootstrapKey</c>) is always valid: each start stores it, or
/// restores it if it was revoked (so revoking it can never lock operators out for good), and revokes
/// the bootstrap keys configured before it (rotation). Every change is audited as the system's.
/// </summary>
public sealed partial class ApiKeyStore
{
    public async Task<BootstrapResult> EnsureBootstrapKeyAsync(CancellationToken cancellationToken)
    {
        var key = admin.Value.BootstrapKey!;
        var result = await InTransactionAsync(async transaction =>
        {
            // Replicas starting together queue here; the first stores the key, the others find it stored.
            await using (var lockCommand = new NpgsqlCommand(AdminKeysLockSql, transaction.Connection, transaction))
            {
                await lockCommand.ExecuteNonQueryAsync(cancellationToken);
            }

            var (id, stored, restored) = await StoreOrRestoreAsync(transaction, key, cancellationToken);
            var rotated = await RevokePreviousBootstrapKeysAsync(transaction, id, cancellationToken);
            return new BootstrapResult(stored, restored, rotated);
        }, cancellationToken);

        if (result.Changed)
        {
            await epoch.BumpAsync();
        }

        return result;
    }

    private async Task<(Guid Id, bool Stored, bool Restored)> StoreOrRestoreAsync(NpgsqlTransaction transaction, string key, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var prefix = ApiKeyFormat.PublicPrefix(key);
        await using var find = new NpgsqlCommand(
            "SELECT id, revoked_at IS NULL AND is_admin AND is_bootstrap FROM api_keys WHERE key_hash = $1",
            transaction.Connection, transaction);
        find.Parameters.AddWithValue(ApiKeyFormat.Hash(key));
        (Guid Id, bool Current)? existing = null;
        await using (var reader = await find.ExecuteReaderAsync(cancellationToken))
        {
            if (await reader.ReadAsync(cancellationToken))
            {
                existing = (reader.GetGuid(0), reader.GetBoolean(1));
            }
        }

        if (existing is { Current: true })
        {
            return (existing.Value.Id, false, false);
        }

        var id = existing?.Id ?? Guid.CreateVersion7();
        await using var command = new NpgsqlCommand(existing is null
            ? """
              INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash, is_admin, is_bootstrap, created_at)
              VALUES ($1, $2, 'bootstrap admin', $3, $4, true, true, $5)
              """
            : "UPDATE api_keys SET revoked_at = NULL, is_admin = true, is_bootstrap = true WHERE id = $1",
            transaction.Connection, transaction);
        command.Parameters.AddWithValue(id);
        if (existing is null)
        {
            command.Parameters.AddWithValue(admin.Value.Tenant);
            command.Parameters.AddWithValue(prefix);
            command.Parameters.AddWithValue(ApiKeyFormat.Hash(key));
            command.Parameters.AddWithValue(now);
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
        await audit.AppendAsync(transaction, AuditActor.System, AuditActions.KeyBootstrap, AuditActions.KeyTarget(id),
            new { change = existing is null ? "stored" : "restored", prefix }, cancellationToken);
        return (id, existing is null, existing is not null);
    }

    private async Task<IReadOnlyList<string>> RevokePreviousBootstrapKeysAsync(NpgsqlTransaction transaction, Guid current, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            UPDATE api_keys k SET is_bootstrap = false, revoked_at = COALESCE(k.revoked_at, $2)
            FROM (SELECT id, revoked_at FROM api_keys WHERE is_bootstrap AND id <> $1 FOR UPDATE) previous
            WHERE k.id = previous.id
            RETURNING k.id, k.prefix, previous.revoked_at IS NULL
            """, transaction.Connection, transaction);
        command.Parameters.AddWithValue(current);
        command.Parameters.AddWithValue(timeProvider.GetUtcNow());
        var rotated = new List<(Guid Id, string Prefix, bool WasActive)>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                rotated.Add((reader.GetGuid(0), reader.GetString(1), reader.GetBoolean(2)));
            }
        }

        foreach (var (id, prefix, wasActive) in rotated)
        {
            await audit.AppendAsync(transaction, AuditActor.System, AuditActions.KeyRotate, AuditActions.KeyTarget(id),
                new { prefix, was_active = wasActive, replaced_by = AuditActions.KeyTarget(current) }, cancellationToken);
        }

        return [.. rotated.Select(key => key.Prefix)];
    }
}
