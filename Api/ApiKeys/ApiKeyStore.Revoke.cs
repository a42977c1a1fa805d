using AspireLlm.Api.Audit;
using Npgsql;

namespace AspireLlm.Api.ApiKeys;

public enum RevokeOutcome
{
    Revoked,
    AlreadyRevoked,
    NotFound,

    /// <summary>Refused: no other active admin key would remain, and nobody could administer anything.</summary>
    LastAdminKey,

    /// <summary>Refused: the configured bootstrap key; it is replaced by configuring another (rotation).</summary>
    BootstrapKey,
}

/// <summary>Revocation, the one place a key stops working (anything that must follow a revocation belongs here).</summary>
public sealed partial class ApiKeyStore
{
    /// <summary>Every change that could leave no active admin key takes this lock first, so two can never both pass the check.</summary>
    internal const string AdminKeysLockSql = "SELECT pg_advisory_xact_lock(hashtextextended('aspirellm:api-keys:admins', 0))";

    /// <summary>
    /// Revokes a key on every replica within a second. The check that another admin key stays active
    /// and the update are one statement, made under a transaction lock that every revocation takes, so
    /// two operators revoking the last two admin keys at once cannot both succeed.
    /// </summary>
    public async Task<RevokeOutcome> RevokeAsync(Guid id, AuditActor actor, CancellationToken cancellationToken)
    {
        var outcome = await InTransactionAsync(async transaction =>
        {
            await using (var lockCommand = new NpgsqlCommand(AdminKeysLockSql, transaction.Connection, transaction))
            {
                await lockCommand.ExecuteNonQueryAsync(cancellationToken);
            }

            await using var revoke = new NpgsqlCommand("""
                UPDATE api_keys k SET revoked_at = $2
                WHERE k.id = $1 AND k.revoked_at IS NULL AND NOT k.is_bootstrap
                  AND (NOT k.is_admin OR EXISTS (
                      SELECT 1 FROM api_keys other WHERE other.is_admin AND other.revoked_at IS NULL AND other.id <> k.id))
                RETURNING k.tenant_id, k.prefix, k.is_admin
                """, transaction.Connection, transaction);
            revoke.Parameters.AddWithValue(id);
            revoke.Parameters.AddWithValue(timeProvider.GetUtcNow());
            object? revoked = null;
            await using (var reader = await revoke.ExecuteReaderAsync(cancellationToken))
            {
                if (await reader.ReadAsync(cancellationToken))
                {
                    revoked = new { tenant_id = reader.GetString(0), prefix = reader.GetString(1), is_admin = reader.GetBoolean(2) };
                }
            }

            if (revoked is not null)
            {
                await audit.AppendAsync(transaction, actor, AuditActions.KeyRevoke, AuditActions.KeyTarget(id), revoked, cancellationToken);
                return RevokeOutcome.Revoked;
            }

            return await WhyNotRevokedAsync(transaction, id, cancellationToken);
        }, cancellationToken);

        if (outcome == RevokeOutcome.Revoked)
        {
            await epoch.BumpAsync();
        }

        return outcome;
    }

    private static async Task<RevokeOutcome> WhyNotRevokedAsync(NpgsqlTransaction transaction, Guid id, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT revoked_at IS NOT NULL, is_bootstrap FROM api_keys WHERE id = $1", transaction.Connection, transaction);
        command.Parameters.AddWithValue(id);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return RevokeOutcome.NotFound;
        }

        return reader.GetBoolean(0) ? RevokeOutcome.AlreadyRevoked
            : reader.GetBoolean(1) ? RevokeOutcome.BootstrapKey
            : RevokeOutcome.LastAdminKey;
    }
}
