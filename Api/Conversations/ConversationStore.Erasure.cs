using Npgsql;

namespace AspireLlm.Api.Conversations;

public sealed partial class ConversationStore
{
    /// <summary>
    /// Marks a deleted conversation's cache entry for as long as an entry could live, so a reader that
    /// loaded the history just before the delete cannot put it back (the cache script refuses to).
    /// </summary>
    private const string Tombstone = "deleted";

    /// <summary>
    /// Erases one of the tenant's conversations: its messages and header in Postgres and its Redis copy.
    /// False (and nothing touched) when the tenant has no such conversation. Redis goes first: if it is
    /// down this throws before anything is deleted, and the client's retry does it all.
    /// </summary>
    public async Task<bool> DeleteAsync(Guid id, string tenantId, CancellationToken cancellationToken)
    {
        await using (var owned = dataSource.CreateCommand("SELECT 1 FROM conversations WHERE id = $1 AND tenant_id = $2"))
        {
            owned.Parameters.AddWithValue(id);
            owned.Parameters.AddWithValue(tenantId);
            if (await owned.ExecuteScalarAsync(cancellationToken) is null)
            {
                return false;
            }
        }

        await redis.GetDatabase().StringSetAsync(CacheKey(id), Tombstone, CacheFor);

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // The row lock waits for a turn being appended; the statements after it (each with a fresh
        // snapshot) then see that turn's messages too, so nothing is left behind.
        await using var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new("SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE") { Parameters = { new() { Value = id } } },
                new("DELETE FROM conversation_messages WHERE conversation_id = $1") { Parameters = { new() { Value = id } } },
                new("DELETE FROM conversations WHERE id = $1") { Parameters = { new() { Value = id } } },
            },
        };
        await batch.ExecuteNonQueryAsync(cancellationToken);
        var deleted = batch.BatchCommands[2].RecordsAffected == 1;
        await transaction.CommitAsync(cancellationToken);
        return deleted;
    }
}
