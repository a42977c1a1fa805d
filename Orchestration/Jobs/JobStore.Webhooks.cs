using System.Buffers;
using System.Text.Json;
using AspireLlm.Orchestration.Encryption;
using Npgsql;

namespace AspireLlm.Orchestration.Jobs;

/// <summary>A webhook delivery claimed by one sender for the length of its lease; payload and secret opened.</summary>
/// <summary>A due webhook; <see cref="TraceParent"/> and <see cref="TraceState"/> are the W3C context of the job's trace, so the delivery's span joins it.</summary>
public sealed record WebhookDelivery(
    Guid JobId, int Run, string Url, string Payload, int Attempt, DateTimeOffset CreatedAt, string Secret, string? TraceParent = null, string? TraceState = null);

/// <summary>What a job's webhook tells the receiver: the job's final state and its result.</summary>
internal sealed record JobSummary(
    Guid Id, string Kind, string Status, JsonElement? Result, JsonElement? Error, JsonElement? Usage, DateTimeOffset CreatedAt, DateTimeOffset CompletedAt);

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
                WHERE status = 'pending' AND payload IS NOT NULL AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until < $1)
                ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
            RETURNING d.job_id, d.run, d.url, d.payload, d.attempts, d.created_at, k.id, k.webhook_secret, j.trace_parent, j.trace_state
            """);
        command.Parameters.AddWithValue(now);
        command.Parameters.AddWithValue(now + lease);
        command.Parameters.AddWithValue(limit);

        var rows = new List<(WebhookDelivery Delivery, Guid KeyId, byte[]? SealedSecret)>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var (jobId, run) = (reader.GetGuid(0), reader.GetInt32(1));
                var payload = cipher.OpenString(reader.GetFieldValue<byte[]>(3), SealContext.For(SealContext.WebhookPayload, jobId, run));
                rows.Add((new WebhookDelivery(jobId, run, reader.GetString(2), payload, reader.GetInt32(4), reader.GetFieldValue<DateTimeOffset>(5), "",
                        reader.IsDBNull(8) ? null : reader.GetString(8), reader.IsDBNull(9) ? null : reader.GetString(9)),
                    reader.GetGuid(6), reader.IsDBNull(7) ? null : reader.GetFieldValue<byte[]>(7)));
            }
        }

        var claimed = new List<WebhookDelivery>(rows.Count);
        foreach (var (delivery, keyId, sealedSecret) in rows)
        {
            var secret = sealedSecret is null
                ? await _webhookSecrets.GetOrCreateAsync(keyId, cancellationToken) // a key that never had one yet
                : _webhookSecrets.Open(keyId, sealedSecret);
            claimed.Add(delivery with { Secret = secret });
        }

        return claimed;
    }

    /// <summary>Queues the job's webhook in the finishing transaction; the body is built here and stored sealed.</summary>
    private async Task QueueWebhookAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, JobSummary job, int run, string url, CancellationToken cancellationToken)
    {
        await using var webhook = new NpgsqlCommand("""
            INSERT INTO webhook_deliveries (job_id, run, url, payload, status, next_attempt_at, created_at)
            VALUES ($1, $2, $3, $4, 'pending', $5, $5)
            ON CONFLICT (job_id, run) DO NOTHING
            """, connection, transaction);
        webhook.Parameters.AddWithValue(job.Id);
        webhook.Parameters.AddWithValue(run);
        webhook.Parameters.AddWithValue(url);
        webhook.Parameters.AddWithValue(cipher.Seal(WebhookBody(job), SealContext.For(SealContext.WebhookPayload, job.Id, run)));
        webhook.Parameters.AddWithValue(job.CompletedAt);
        await webhook.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The body receivers get (and the signature covers), exactly as it will be sent.</summary>
    internal static byte[] WebhookBody(JobSummary job)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("id", job.Id);
            writer.WriteString("object", "job");
            writer.WriteString("kind", job.Kind);
            writer.WriteString("status", job.Status);
            foreach (var (name, value) in new[] { ("result", job.Result), ("error", job.Error), ("usage", job.Usage) })
            {
                writer.WritePropertyName(name);
                if (value is { } json)
                {
                    json.WriteTo(writer);
                }
                else
                {
                    writer.WriteNullValue();
                }
            }

            writer.WriteString("created_at", job.CreatedAt);
            writer.WriteString("completed_at", job.CompletedAt);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
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
            UPDATE webhook_deliveries SET lease_until = NULL, next_attempt_at = COALESCE($4, next_attempt_at),
                   -- A delivery whose body was erased while this attempt ran is not tried again.
                   status = CASE WHEN payload IS NULL AND $3 = 'pending' THEN 'failed' ELSE $3 END,
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
