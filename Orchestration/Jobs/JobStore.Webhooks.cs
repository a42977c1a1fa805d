namespace AspireLlm.Orchestration.Jobs;

/// <summary>A webhook delivery claimed by one sender for the length of its lease.</summary>
public sealed record WebhookDelivery(Guid JobId, int Run, string Url, string Payload, int Attempt, DateTimeOffset CreatedAt, string Secret);

public sealed partial class JobStore
{
    /// <summary>
    /// Claims due deliveries with a lease: no other sender takes them until the lease ends, and a
    /// sender that dies mid-delivery only delays them by the lease. Each claim counts an attempt.
    /// </summary>
    public async Task<IReadOnlyList<WebhookDelivery>> ClaimDueWebhooksAsync(
        DateTimeOffset now, TimeSpan lease, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE webhook_deliveries d SET lease_until = $2, attempts = d.attempts + 1
            FROM jobs j JOIN api_keys k ON k.id = j.api_key_id
            WHERE j.id = d.job_id AND (d.job_id, d.run) IN (
                SELECT job_id, run FROM webhook_deliveries
                WHERE status = 'pending' AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until < $1)
                ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
            RETURNING d.job_id, d.run, d.url, d.payload::text, d.attempts, d.created_at, k.webhook_secret
            """);
        command.Parameters.AddWithValue(now);
        command.Parameters.AddWithValue(now + lease);
        command.Parameters.AddWithValue(limit);

        var claimed = new List<WebhookDelivery>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            claimed.Add(new WebhookDelivery(reader.GetGuid(0), reader.GetInt32(1), reader.GetString(2), reader.GetString(3),
                reader.GetInt32(4), reader.GetFieldValue<DateTimeOffset>(5), reader.GetString(6)));
        }

        return claimed;
    }

    /// <summary>
    /// Records one attempt and the delivery's next state: delivered, retried at <paramref name="nextAttemptAt"/>,
    /// or failed for good when <paramref name="nextAttemptAt"/> is null.
    /// </summary>
    public async Task RecordWebhookAttemptAsync(
        WebhookDelivery delivery, int? statusCode, string? error, TimeSpan duration, bool delivered, DateTimeOffset? nextAttemptAt,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var batch = dataSource.CreateBatch();
        var attempt = batch.CreateBatchCommand();
        attempt.CommandText = """
            INSERT INTO webhook_attempts (job_id, run, attempt, at, status_code, error, duration_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)
            """;
        attempt.Parameters.Add(new() { Value = delivery.JobId });
        attempt.Parameters.Add(new() { Value = delivery.Run });
        attempt.Parameters.Add(new() { Value = delivery.Attempt });
        attempt.Parameters.Add(new() { Value = now });
        attempt.Parameters.Add(new() { Value = (object?)statusCode ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Integer });
        attempt.Parameters.Add(NullableText(error));
        attempt.Parameters.Add(new() { Value = (int)duration.TotalMilliseconds });
        batch.BatchCommands.Add(attempt);

        var state = batch.CreateBatchCommand();
        state.CommandText = """
            UPDATE webhook_deliveries SET status = $3, lease_until = NULL, next_attempt_at = COALESCE($4, next_attempt_at),
                   delivered_at = CASE WHEN $3 = 'delivered' THEN $5 ELSE delivered_at END
            WHERE job_id = $1 AND run = $2
            """;
        state.Parameters.Add(new() { Value = delivery.JobId });
        state.Parameters.Add(new() { Value = delivery.Run });
        state.Parameters.Add(new() { Value = delivered ? "delivered" : nextAttemptAt is null ? "failed" : "pending" });
        state.Parameters.Add(new() { Value = (object?)nextAttemptAt ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        state.Parameters.Add(new() { Value = now });
        batch.BatchCommands.Add(state);

        await batch.ExecuteNonQueryAsync(cancellationToken);
    }
}
