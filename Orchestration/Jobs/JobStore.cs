using System.Text.Json;
using AspireLlm.Orchestration.Encryption;
using Npgsql;
using NpgsqlTypes;

namespace AspireLlm.Orchestration.Jobs;

/// <summary>
/// The jobs table and what jobs write beside it (ledger rows, webhook outbox, batch items). Every
/// state change is a single guarded statement or one transaction, so a job delivered twice, or two
/// workers racing, can never move a finished job, charge it twice or notify twice. Content (inputs,
/// results, item results, webhook bodies) is sealed here on the way in and opened on the way out, so
/// callers see JSON and the database holds only ciphertext.
/// </summary>
public sealed partial class JobStore(NpgsqlDataSource dataSource, ContentCipher cipher)
{
    private const string Columns =
        "id, tenant_id, api_key_id, kind, status, progress, current_step, steps, input, result, error, usage, " +
        "attempts, idempotency_key, request_hash, hangfire_job_id, created_at, started_at, completed_at, updated_at, " +
        "webhook_url, cancel_requested_at, worker, run, dispatch_id, content_erased_at, trace_parent, trace_state";

    private readonly Webhooks.WebhookSecretStore _webhookSecrets = new(dataSource, cipher);

    /// <summary>
    /// Inserts the job, or returns the one already accepted under the same idempotency key for the
    /// same API key. <c>Created</c> is false when an existing job is returned; <c>Job</c> is null when
    /// the key already has <paramref name="maxPending"/> pending jobs (checked in the insert itself, so
    /// concurrent submissions can pass it together by at most their number).
    /// </summary>
    public async Task<(JobRecord? Job, bool Created)> CreateAsync(NewJob job, int maxPending, CancellationToken cancellationToken)
    {
        // The NOTIFY is delivered on commit: the workers' dispatchers wake and put the job on its queue.
        await using var command = dataSource.CreateCommand($"""
            WITH inserted AS (
                INSERT INTO jobs (id, tenant_id, api_key_id, kind, status, steps, input, idempotency_key, request_hash, created_at, updated_at, webhook_url,
                                  trace_parent, trace_state)
                SELECT $1, $2, $3, $4, 'pending', jsonb_build_array(jsonb_build_object('at', $7::timestamptz, 'step', 'accepted')),
                       $5, $6, $8, $7, $7, $9, $11, $12
                WHERE (SELECT count(*) FROM jobs WHERE api_key_id = $3 AND status = 'pending') < $10
                ON CONFLICT (api_key_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
                RETURNING {Columns})
            SELECT inserted.*, pg_notify('{DispatchChannel}', '') FROM inserted
            """);
        command.Parameters.AddWithValue(job.Id);
        command.Parameters.AddWithValue(job.TenantId);
        command.Parameters.AddWithValue(job.ApiKeyId);
        command.Parameters.AddWithValue(job.Kind);
        command.Parameters.Add(SealedParameter(job.Input, SealContext.JobInput, job.Id));
        command.Parameters.Add(NullableText(job.IdempotencyKey));
        command.Parameters.AddWithValue(job.CreatedAt);
        command.Parameters.AddWithValue(job.RequestHash);
        command.Parameters.Add(NullableText(job.WebhookUrl));
        command.Parameters.AddWithValue(maxPending);
        command.Parameters.Add(NullableText(job.TraceParent));
        command.Parameters.Add(NullableText(job.TraceState));

        var created = await ReadSingleAsync(command, cancellationToken);
        if (created is not null || job.IdempotencyKey is null)
        {
            return (created, created is not null);
        }

        // Nothing inserted: the idempotency key was used before, or the key is at its cap.
        await using var existing = dataSource.CreateCommand(
            $"SELECT {Columns} FROM jobs WHERE api_key_id = $1 AND idempotency_key = $2");
        existing.Parameters.AddWithValue(job.ApiKeyId);
        existing.Parameters.AddWithValue(job.IdempotencyKey);
        return (await ReadSingleAsync(existing, cancellationToken), false);
    }

    /// <summary>A job as its owner may see it: another tenant's id reads as not found.</summary>
    public async Task<JobRecord?> GetForTenantAsync(Guid id, string tenantId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns} FROM jobs WHERE id = $1 AND tenant_id = $2");
        command.Parameters.AddWithValue(id);
        command.Parameters.AddWithValue(tenantId);
        return await ReadSingleAsync(command, cancellationToken);
    }

    /// <summary>The job a key accepted under <paramref name="idempotencyKey"/> (an agent task's client id is its idempotency key).</summary>
    public async Task<JobRecord?> GetByIdempotencyKeyAsync(Guid apiKeyId, string idempotencyKey, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns} FROM jobs WHERE api_key_id = $1 AND idempotency_key = $2");
        command.Parameters.AddWithValue(apiKeyId);
        command.Parameters.AddWithValue(idempotencyKey);
        return await ReadSingleAsync(command, cancellationToken);
    }

    public async Task<JobRecord?> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns} FROM jobs WHERE id = $1");
        command.Parameters.AddWithValue(id);
        return await ReadSingleAsync(command, cancellationToken);
    }

    /// <summary>The ids of a key's pending and running jobs (for its revocation).</summary>
    public async Task<IReadOnlyList<Guid>> ActiveJobIdsOfKeyAsync(Guid apiKeyId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT id FROM jobs WHERE api_key_id = $1 AND status IN ('pending', 'processing')");
        command.Parameters.AddWithValue(apiKeyId);
        var ids = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(reader.GetGuid(0));
        }

        return ids;
    }

    /// <summary>The most recent jobs of every tenant, for operators.</summary>
    public async Task<IReadOnlyList<JobRecord>> ListRecentAsync(int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns} FROM jobs ORDER BY created_at DESC LIMIT $1");
        command.Parameters.AddWithValue(limit);
        return await ReadAllAsync(command, cancellationToken);
    }

    /// <summary>The Postgres NOTIFY channel that wakes the dispatchers when a job row needs a queue entry.</summary>
    public const string DispatchChannel = "aspirellm_dispatch";

    /// <summary>Marks a row claimed by a dispatcher that has not yet recorded its Hangfire id.</summary>
    public const string Dispatching = "dispatching";

    /// <summary>
    /// Puts jobs that have no queue entry yet on their Hangfire queue, oldest first. Rows are claimed
    /// (with a fresh dispatch id) and committed first, then enqueued: a worker that fetches the job at
    /// once must not wait on a row lock held across the enqueues (measured: it did, ~140 ms per job).
    /// SKIP LOCKED keeps two dispatchers off the same rows; a dispatcher that dies between the claim
    /// and the enqueue leaves rows marked <see cref="Dispatching"/>, which <see cref="ReleaseStaleAsync"/>
    /// hands back. Returns how many rows were dispatched.
    /// </summary>
    public Task<int> DispatchPendingAsync(Func<Guid, Guid, string, string> enqueue, CancellationToken cancellationToken) =>
        DispatchPendingAsync(job => enqueue(job.Id, job.DispatchId, job.Kind), cancellationToken);

    /// <inheritdoc cref="DispatchPendingAsync(Func{Guid, Guid, string, string}, CancellationToken)"/>
    public async Task<int> DispatchPendingAsync(Func<DispatchedJob, string> enqueue, CancellationToken cancellationToken)
    {
        var claimed = new List<DispatchedJob>();
        await using (var claim = dataSource.CreateCommand($"""
            UPDATE jobs SET hangfire_job_id = '{Dispatching}', dispatch_id = gen_random_uuid(), updated_at = now()
            WHERE id IN (
                SELECT id FROM jobs WHERE hangfire_job_id IS NULL AND status IN ('pending', 'processing')
                  AND (not_before IS NULL OR not_before <= now())
                ORDER BY created_at LIMIT 200 FOR UPDATE SKIP LOCKED)
            RETURNING id, kind, dispatch_id, trace_parent, trace_state
            """))
        await using (var reader = await claim.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                claimed.Add(new DispatchedJob(reader.GetGuid(0), reader.GetGuid(2), reader.GetString(1),
                    reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4)));
            }
        }

        if (claimed.Count == 0)
        {
            return 0;
        }

        var hangfireIds = claimed.Select(enqueue).ToArray();
        await using var record = dataSource.CreateCommand("""
            UPDATE jobs SET hangfire_job_id = dispatched.hangfire_id
            FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS dispatched (id, dispatch_id, hangfire_id)
            WHERE jobs.id = dispatched.id AND jobs.dispatch_id = dispatched.dispatch_id
            """);
        record.Parameters.AddWithValue(claimed.Select(job => job.Id).ToArray());
        record.Parameters.AddWithValue(claimed.Select(job => job.DispatchId).ToArray());
        record.Parameters.AddWithValue(hangfireIds);
        await record.ExecuteNonQueryAsync(cancellationToken);
        return claimed.Count;
    }

    private static NpgsqlParameter NullableText(string? value) =>
        new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };

    private static NpgsqlParameter NullableJson(JsonElement? value) =>
        new() { Value = value is { } json ? json.GetRawText() : DBNull.Value, NpgsqlDbType = NpgsqlDbType.Jsonb };
}
