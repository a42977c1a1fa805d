using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace AspireLlm.Orchestration.Jobs;

/// <summary>
/// The jobs table and the ledger rows that jobs write. Every state change is a single guarded
/// statement (or one transaction), so a job delivered twice, or two workers racing, can never move
/// a finished job or charge it twice.
/// </summary>
public sealed partial class JobStore(NpgsqlDataSource dataSource)
{
    private const string Columns =
        "id, tenant_id, api_key_id, kind, status, progress, current_step, steps, input, result, error, usage, " +
        "attempts, idempotency_key, request_hash, hangfire_job_id, created_at, started_at, completed_at, updated_at";

    /// <summary>
    /// Inserts the job, or returns the one already accepted under the same idempotency key for the
    /// same API key. <c>Created</c> is false when an existing job is returned.
    /// </summary>
    public async Task<(JobRecord Job, bool Created)> CreateAsync(NewJob job, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            INSERT INTO jobs (id, tenant_id, api_key_id, kind, status, steps, input, idempotency_key, request_hash, created_at, updated_at)
            VALUES ($1, $2, $3, $4, 'pending', jsonb_build_array(jsonb_build_object('at', $7::timestamptz, 'step', 'accepted')),
                    $5, $6, $8, $7, $7)
            ON CONFLICT (api_key_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
            RETURNING {Columns}
            """);
        command.Parameters.AddWithValue(job.Id);
        command.Parameters.AddWithValue(job.TenantId);
        command.Parameters.AddWithValue(job.ApiKeyId);
        command.Parameters.AddWithValue(job.Kind);
        command.Parameters.Add(Json(job.Input));
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)job.IdempotencyKey ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.AddWithValue(job.CreatedAt);
        command.Parameters.AddWithValue(job.RequestHash);

        var created = await ReadSingleAsync(command, cancellationToken);
        if (created is not null)
        {
            return (created, true);
        }

        await using var existing = dataSource.CreateCommand(
            $"SELECT {Columns} FROM jobs WHERE api_key_id = $1 AND idempotency_key = $2");
        existing.Parameters.AddWithValue(job.ApiKeyId);
        existing.Parameters.AddWithValue(job.IdempotencyKey!);
        return (await ReadSingleAsync(existing, cancellationToken)
            ?? throw new InvalidOperationException("The idempotent job vanished between insert and read."), false);
    }

    /// <summary>Records the Hangfire id once the job is enqueued; the dispatcher skips dispatched rows.</summary>
    public async Task MarkDispatchedAsync(Guid id, string hangfireJobId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "UPDATE jobs SET hangfire_job_id = $2 WHERE id = $1 AND hangfire_job_id IS NULL");
        command.Parameters.AddWithValue(id);
        command.Parameters.AddWithValue(hangfireJobId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>A job as its owner may see it: another tenant's id reads as not found.</summary>
    public async Task<JobRecord?> GetForTenantAsync(Guid id, string tenantId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns} FROM jobs WHERE id = $1 AND tenant_id = $2");
        command.Parameters.AddWithValue(id);
        command.Parameters.AddWithValue(tenantId);
        return await ReadSingleAsync(command, cancellationToken);
    }

    public async Task<JobRecord?> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns} FROM jobs WHERE id = $1");
        command.Parameters.AddWithValue(id);
        return await ReadSingleAsync(command, cancellationToken);
    }

    /// <summary>The most recent jobs of every tenant, for operators.</summary>
    public async Task<IReadOnlyList<JobRecord>> ListRecentAsync(int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns} FROM jobs ORDER BY created_at DESC LIMIT $1");
        command.Parameters.AddWithValue(limit);
        return await ReadAllAsync(command, cancellationToken);
    }

    /// <summary>
    /// Moves a pending (or interrupted processing) job to processing and counts the attempt.
    /// Returns null when the job is already final: a repeated delivery then does nothing.
    /// </summary>
    public async Task<JobRecord?> TryStartAsync(Guid id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            UPDATE jobs SET status = 'processing', attempts = attempts + 1, progress = 10,
                   current_step = 'calling model', started_at = COALESCE(started_at, $2), updated_at = $2,
                   steps = steps || jsonb_build_array(jsonb_build_object('at', $2::timestamptz, 'step', 'calling model'))
            WHERE id = $1 AND status IN ('pending', 'processing')
            RETURNING {Columns}
            """);
        command.Parameters.AddWithValue(id);
        command.Parameters.AddWithValue(now);
        return await ReadSingleAsync(command, cancellationToken);
    }

    /// <summary>
    /// Stores the result and writes the ledger row in one transaction, only if the job is still
    /// processing. Returns false when another delivery finished it first (nothing is written).
    /// </summary>
    public async Task<bool> CompleteAsync(
        JobRecord job, JsonElement result, JsonElement usage, UsageEntry charge, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        await using var update = new NpgsqlCommand("""
            UPDATE jobs SET status = 'completed', progress = 100, current_step = 'completed', result = $2, usage = $3,
                   error = NULL, completed_at = $4, updated_at = $4,
                   steps = steps || jsonb_build_array(jsonb_build_object('at', $4::timestamptz, 'step', 'completed'))
            WHERE id = $1 AND status = 'processing'
            """, connection, transaction);
        update.Parameters.AddWithValue(job.Id);
        update.Parameters.Add(Json(result));
        update.Parameters.Add(Json(usage));
        update.Parameters.AddWithValue(now);
        if (await update.ExecuteNonQueryAsync(cancellationToken) == 0)
        {
            return false;
        }

        await using var ledger = new NpgsqlCommand("""
            INSERT INTO usage_ledger (tenant_id, api_key_id, job_id, model_alias, provider_model, input_tokens, output_tokens, cost, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            ON CONFLICT (job_id) DO NOTHING
            """, connection, transaction);
        ledger.Parameters.AddWithValue(job.TenantId);
        ledger.Parameters.AddWithValue(job.ApiKeyId);
        ledger.Parameters.AddWithValue(job.Id);
        ledger.Parameters.AddWithValue(charge.ModelAlias);
        ledger.Parameters.AddWithValue(charge.ProviderModel);
        ledger.Parameters.AddWithValue(charge.InputTokens);
        ledger.Parameters.AddWithValue(charge.OutputTokens);
        ledger.Parameters.AddWithValue(charge.Cost);
        ledger.Parameters.AddWithValue(now);
        await ledger.ExecuteNonQueryAsync(cancellationToken);

        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>Marks a processing job failed with an error the client can read.</summary>
    public async Task<bool> FailAsync(Guid id, string code, string message, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE jobs SET status = 'failed', current_step = 'failed', updated_at = $4, completed_at = $4,
                   error = jsonb_build_object('code', $2::text, 'message', $3::text),
                   steps = steps || jsonb_build_array(jsonb_build_object('at', $4::timestamptz, 'step', 'failed'))
            WHERE id = $1 AND status IN ('pending', 'processing')
            """);
        command.Parameters.AddWithValue(id);
        command.Parameters.AddWithValue(code);
        command.Parameters.AddWithValue(message);
        command.Parameters.AddWithValue(now);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>Returns a job to pending after a transient failure, before Hangfire retries it.</summary>
    public async Task RequeueAsync(Guid id, string reason, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE jobs SET status = 'pending', current_step = 'waiting to retry', updated_at = $3,
                   steps = steps || jsonb_build_array(jsonb_build_object('at', $3::timestamptz, 'step', 'retry scheduled', 'reason', $2::text))
            WHERE id = $1 AND status = 'processing'
            """);
        command.Parameters.AddWithValue(id);
        command.Parameters.AddWithValue(reason);
        command.Parameters.AddWithValue(now);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Enqueues pending jobs whose enqueue never happened (the accepting process died between the
    /// insert and the enqueue). Rows are locked with SKIP LOCKED so two dispatchers never enqueue one
    /// row twice; a duplicate enqueue would still be harmless because jobs are idempotent.
    /// </summary>
    public async Task<int> DispatchStrandedAsync(
        DateTimeOffset olderThan, Func<Guid, string, string> enqueue, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var select = new NpgsqlCommand("""
            SELECT id, kind FROM jobs
            WHERE hangfire_job_id IS NULL AND status = 'pending' AND created_at < $1
            ORDER BY created_at LIMIT 100 FOR UPDATE SKIP LOCKED
            """, connection, transaction);
        select.Parameters.AddWithValue(olderThan);

        var stranded = new List<(Guid Id, string Kind)>();
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                stranded.Add((reader.GetGuid(0), reader.GetString(1)));
            }
        }

        foreach (var (id, kind) in stranded)
        {
            await using var update = new NpgsqlCommand("UPDATE jobs SET hangfire_job_id = $2 WHERE id = $1", connection, transaction);
            update.Parameters.AddWithValue(id);
            update.Parameters.AddWithValue(enqueue(id, kind));
            await update.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return stranded.Count;
    }
}
