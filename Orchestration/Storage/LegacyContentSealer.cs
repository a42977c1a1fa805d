using System.Text;
using AspireLlm.Orchestration.Encryption;
using Npgsql;

namespace AspireLlm.Orchestration.Storage;

/// <summary>
/// Seals the content that was stored in the clear before migration 0011 (its <c>legacy_*</c>
/// columns) and empties those columns. The migrations step runs it right after the schema, before
/// the services start, so the services only ever read sealed columns. Work goes in small batches,
/// each its own transaction, so an interrupted run just continues next time.
/// </summary>
public static class LegacyContentSealer
{
    private const int BatchSize = 500;

    private sealed record LegacyColumn(string Table, string Legacy, string Sealed, string[] Keys, Func<object[], byte[]> Context);

    private static readonly LegacyColumn[] Columns =
    [
        new("jobs", "legacy_input", "input", ["id"], keys => SealContext.For(SealContext.JobInput, (Guid)keys[0])),
        new("jobs", "legacy_result", "result", ["id"], keys => SealContext.For(SealContext.JobResult, (Guid)keys[0])),
        new("job_items", "legacy_result", "result", ["job_id", "run", "item_index"],
            keys => SealContext.For(SealContext.JobItemResult, (Guid)keys[0], (int)keys[1], (int)keys[2])),
        new("webhook_deliveries", "legacy_payload", "payload", ["job_id", "run"],
            keys => SealContext.For(SealContext.WebhookPayload, (Guid)keys[0], (int)keys[1])),
        new("api_keys", "legacy_webhook_secret", "webhook_secret", ["id"], keys => SealContext.For(SealContext.WebhookSecret, (Guid)keys[0])),
    ];

    /// <summary>How many values are still in the clear.</summary>
    public static async Task<long> CountAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var sql = string.Join(" + ", Columns.Select(column => $"(SELECT count(*) FROM {column.Table} WHERE {column.Legacy} IS NOT NULL)"));
        await using var command = dataSource.CreateCommand($"SELECT {sql}");
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Seals every value still in the clear; returns how many.</summary>
    public static async Task<long> SealAsync(NpgsqlDataSource dataSource, ContentCipher cipher, CancellationToken cancellationToken)
    {
        long total = 0;
        foreach (var column in Columns)
        {
            int sealedNow;
            do
            {
                sealedNow = await SealBatchAsync(dataSource, cipher, column, cancellationToken);
                total += sealedNow;
            }
            while (sealedNow == BatchSize);
        }

        return total;
    }

    private static async Task<int> SealBatchAsync(NpgsqlDataSource dataSource, ContentCipher cipher, LegacyColumn column, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var keys = string.Join(", ", column.Keys);
        var rows = new List<(object[] Keys, string Plaintext)>();
        await using (var select = new NpgsqlCommand(
            $"SELECT {keys}, {column.Legacy}::text FROM {column.Table} WHERE {column.Legacy} IS NOT NULL LIMIT {BatchSize} FOR UPDATE", connection, transaction))
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var values = new object[column.Keys.Length];
                reader.GetValues(values);
                rows.Add((values, reader.GetString(column.Keys.Length)));
            }
        }

        var where = string.Join(" AND ", column.Keys.Select((key, i) => $"{key} = ${i + 2}"));
        await using var batch = new NpgsqlBatch(connection, transaction);
        foreach (var (rowKeys, plaintext) in rows)
        {
            var update = new NpgsqlBatchCommand($"UPDATE {column.Table} SET {column.Sealed} = $1, {column.Legacy} = NULL WHERE {where}");
            update.Parameters.Add(new NpgsqlParameter { Value = cipher.Seal(Encoding.UTF8.GetBytes(plaintext), column.Context(rowKeys)) });
            foreach (var key in rowKeys)
            {
                update.Parameters.Add(new NpgsqlParameter { Value = key });
            }

            batch.BatchCommands.Add(update);
        }

        if (rows.Count > 0)
        {
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return rows.Count;
    }
}
