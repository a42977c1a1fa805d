using System.Text.Json;
using Npgsql;
using StackExchange.Redis;

namespace AspireLlm.Api.Conversations;

/// <summary>A conversation's header and its messages, decrypted.</summary>
public sealed record Conversation(Guid Id, string TenantId, string Model, DateTimeOffset CreatedAt, IReadOnlyList<ConversationMessage> Messages);

public sealed record ConversationMessage(string Role, string Content);

/// <summary>
/// Conversations in Postgres, encrypted, with a Redis copy of each conversation's rows so that a
/// turn on any replica usually costs no database read. Redis holds the ciphertexts, never the text.
/// </summary>
public sealed partial class ConversationStore(NpgsqlDataSource dataSource, IConnectionMultiplexer redis, ConversationCipher cipher, TimeProvider timeProvider)
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromHours(1);

    /// <summary>
    /// Writes "rows|json" unless the cache already holds as many rows or more: rows only ever grow,
    /// so whatever order appends and readers finish in, the newest history wins.
    /// </summary>
    private const string CacheIfNewer = """
        local current = redis.call('GET', KEYS[1])
        if current == 'deleted' then return 0 end
        if current then
          local rows = tonumber(string.match(current, '^(%d+)|'))
          if rows and rows >= tonumber(ARGV[1]) then return 0 end
        end
        redis.call('SET', KEYS[1], ARGV[1] .. '|' .. ARGV[2], 'PX', ARGV[3])
        return 1
        """;

    public async Task<Conversation> CreateAsync(string tenantId, Guid apiKeyId, string model, string? system, CancellationToken cancellationToken)
    {
        var id = Guid.CreateVersion7();
        var now = timeProvider.GetUtcNow();
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(Command("INSERT INTO conversations (id, tenant_id, api_key_id, model, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
            id, tenantId, apiKeyId, model, now));
        List<ConversationMessage> messages = system is null ? [] : [new("system", system)];
        if (system is not null)
        {
            batch.BatchCommands.Add(Command("INSERT INTO conversation_messages (conversation_id, seq, role, content, created_at) VALUES ($1, 0, 'system', $2, $3)",
                id, cipher.Encrypt(system, id, 0), now));
        }

        await batch.ExecuteNonQueryAsync(cancellationToken);
        return new Conversation(id, tenantId, model, now, messages);
    }

    /// <summary>The conversation if it exists and belongs to <paramref name="tenantId"/>; null otherwise, alike.</summary>
    public async Task<Conversation?> FindAsync(Guid id, string tenantId, CancellationToken cancellationToken)
    {
        var stored = await ReadCachedAsync(id) ?? await ReadDatabaseAsync(id, cancellationToken);
        if (stored is null || stored.TenantId != tenantId)
        {
            return null;
        }

        return new Conversation(id, stored.TenantId, stored.Model, stored.CreatedAt,
            [.. stored.Rows.Select(row => new ConversationMessage(row.Role, cipher.Decrypt(row.Content, id, row.Seq)))]);
    }

    /// <summary>Appends a finished turn. Turns on one conversation (and its deletion) are serialised by a row lock.</summary>
    public async Task AppendAsync(Guid id, IReadOnlyList<ConversationMessage> messages, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var lockRow = new NpgsqlCommand("SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE", connection, transaction) { Parameters = { new() { Value = id } } })
        {
            if (await lockRow.ExecuteScalarAsync(cancellationToken) is null)
            {
                return; // deleted while the turn ran: the turn is not kept either
            }
        }

        int next;
        await using (var max = new NpgsqlCommand("SELECT COALESCE(MAX(seq) + 1, 0) FROM conversation_messages WHERE conversation_id = $1", connection, transaction)
        {
            Parameters = { new() { Value = id } },
        })
        {
            next = (int)(await max.ExecuteScalarAsync(cancellationToken))!;
        }

        var now = timeProvider.GetUtcNow();
        foreach (var message in messages)
        {
            var seq = next++;
            await using var insert = new NpgsqlCommand(
                "INSERT INTO conversation_messages (conversation_id, seq, role, content, created_at) VALUES ($1, $2, $3, $4, $5)", connection, transaction)
            {
                Parameters = { new() { Value = id }, new() { Value = seq }, new() { Value = message.Role }, new() { Value = cipher.Encrypt(message.Content, id, seq) }, new() { Value = now } },
            };
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var touch = new NpgsqlCommand("UPDATE conversations SET updated_at = $2 WHERE id = $1", connection, transaction)
        {
            Parameters = { new() { Value = id }, new() { Value = now } },
        })
        {
            await touch.ExecuteNonQueryAsync(cancellationToken);
        }

        // Read back under the lock, so the cache gets exactly what was committed; the cache write keeps
        // whichever history has more rows, so a reader holding older rows cannot overwrite these.
        var fresh = await ReadDatabaseAsync(id, connection, transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        await CacheAsync(id, fresh, afterAppend: true);
    }

    private static string CacheKey(Guid id) => $"aspirellm:conversation:{id:N}";

    private async Task<StoredConversation?> ReadCachedAsync(Guid id)
    {
        try
        {
            var value = await redis.GetDatabase().StringGetAsync(CacheKey(id));
            // "rows|json"; anything else (an entry from an older version) counts as a miss.
            var text = value.IsNull ? "" : value.ToString();
            var bar = text.IndexOf('|', StringComparison.Ordinal);
            return bar < 0 ? null : JsonSerializer.Deserialize<StoredConversation>(text[(bar + 1)..]);
        }
        catch (Exception exception) when (exception is RedisException or RedisTimeoutException)
        {
            return null; // the database has it all
        }
    }

    private async Task<StoredConversation?> ReadDatabaseAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var stored = await ReadDatabaseAsync(id, connection, null, cancellationToken);
        await CacheAsync(id, stored, afterAppend: false);
        return stored;
    }

    private async Task CacheAsync(Guid id, StoredConversation? stored, bool afterAppend)
    {
        if (stored is null)
        {
            return;
        }

        try
        {
            await redis.GetDatabase().ScriptEvaluateAsync(
                CacheIfNewer, [CacheKey(id)], [stored.Rows.Count + 1, JsonSerializer.Serialize(stored), (long)CacheFor.TotalMilliseconds]);
        }
        catch (Exception exception) when (exception is RedisException or RedisTimeoutException)
        {
            if (afterAppend)
            {
                // An append's history did not reach the cache: drop what is there rather than serve it stale.
                try
                {
                    await redis.GetDatabase().KeyDeleteAsync(CacheKey(id));
                }
                catch (Exception again) when (again is RedisException or RedisTimeoutException)
                {
                    // Redis is down for both; the entry, if any, expires within the hour.
                }
            }
        }
    }

    private static async Task<StoredConversation?> ReadDatabaseAsync(
        Guid id, NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT c.tenant_id, c.model, c.created_at, m.seq, m.role, m.content
            FROM conversations c LEFT JOIN conversation_messages m ON m.conversation_id = c.id
            WHERE c.id = $1 ORDER BY m.seq
            """, connection, transaction);
        command.Parameters.AddWithValue(id);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        StoredConversation? stored = null;
        while (await reader.ReadAsync(cancellationToken))
        {
            stored ??= new StoredConversation(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2), []);
            if (!reader.IsDBNull(3))
            {
                stored.Rows.Add(new StoredRow(reader.GetInt32(3), reader.GetString(4), reader.GetFieldValue<byte[]>(5)));
            }
        }

        return stored;
    }

    private static NpgsqlBatchCommand Command(string sql, params object[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return command;
    }

    private sealed record StoredConversation(string TenantId, string Model, DateTimeOffset CreatedAt, List<StoredRow> Rows);

    private sealed record StoredRow(int Seq, string Role, byte[] Content);
}
