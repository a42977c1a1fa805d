using AspireLlm.Orchestration.Encryption;
using AspireLlm.Orchestration.Jobs;
using Npgsql;
using NpgsqlTypes;

namespace AspireLlm.Orchestration.Agents;

/// <summary>A task's stored checkpoint, with the question it waits on and the answer, if one came.</summary>
public sealed record StoredAgentTask(AgentCheckpoint? Checkpoint, int Version, string? RequestId, string? Answer, DateTimeOffset? WaitingSince);

public enum ProvideInputOutcome
{
    Accepted,

    /// <summary>No such question is pending (already answered, never asked, timed out, or the task ended).</summary>
    NotPending,
}

/// <summary>
/// What an agent task keeps beside its job row (<c>agent_tasks</c>): its sealed checkpoint, the question
/// it waits on and the person's answer (sealed), and how long a WebSocket session keeps it attached.
/// The waiting and the answering meet on this row's lock, so an answer that arrives while the task is
/// still handing its Worker slot back is never lost: either the task sees it before it waits, or the
/// answer finds the task waiting and queues it again.
/// </summary>
public sealed class AgentStore(NpgsqlDataSource dataSource, ContentCipher cipher)
{
    public async Task<StoredAgentTask> LoadAsync(Guid jobId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT state, version, request_id, answer, waiting_since FROM agent_tasks WHERE job_id = $1");
        command.Parameters.AddWithValue(jobId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return new StoredAgentTask(null, 0, null, null, null);
        }

        var checkpoint = reader.IsDBNull(0) ? null
            : AgentCheckpoint.FromUtf8(cipher.Open(reader.GetFieldValue<byte[]>(0), SealContext.For(SealContext.AgentState, jobId)));
        var answer = reader.IsDBNull(3) ? null : cipher.OpenString(reader.GetFieldValue<byte[]>(3), SealContext.For(SealContext.AgentAnswer, jobId));
        return new StoredAgentTask(checkpoint, reader.GetInt32(1), reader.IsDBNull(2) ? null : reader.GetString(2), answer,
            reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4));
    }

    /// <summary>
    /// Stores a checkpoint over version <paramref name="version"/> and returns the new version. The
    /// checkpoint's pending question becomes the row's (<paramref name="waitingSince"/> is when it was
    /// asked); a consumed answer is cleared. Throws when another run moved the task on meanwhile.
    /// </summary>
    /// <param name="steps">Entries for the job's step log (what happened, never the content), added in the same statement.</param>
    public async Task<int> SaveAsync(Guid jobId, AgentCheckpoint checkpoint, int version, DateTimeOffset? waitingSince, DateTimeOffset now,
        CancellationToken cancellationToken, System.Text.Json.JsonElement? steps = null, string? currentStep = null)
    {
        await using var command = dataSource.CreateCommand("""
            WITH logged AS (
                UPDATE jobs SET steps = steps || COALESCE($7::jsonb, '[]'::jsonb), current_step = COALESCE($8, current_step), updated_at = $6,
                       progress = LEAST(95, GREATEST(progress, 10 + $9))
                WHERE id = $1 AND status = 'processing')
            INSERT INTO agent_tasks AS t (job_id, state, version, request_id, answer, waiting_since, updated_at)
            VALUES ($1, $2, $3 + 1, $4, NULL, $5, $6)
            ON CONFLICT (job_id) DO UPDATE SET state = EXCLUDED.state, version = EXCLUDED.version, request_id = EXCLUDED.request_id,
                answer = CASE WHEN EXCLUDED.request_id IS NULL THEN NULL ELSE t.answer END,
                waiting_since = EXCLUDED.waiting_since, updated_at = EXCLUDED.updated_at
            WHERE t.version = $3
            RETURNING version
            """);
        command.Parameters.AddWithValue(jobId);
        command.Parameters.AddWithValue(cipher.Seal(checkpoint.ToUtf8(), SealContext.For(SealContext.AgentState, jobId)));
        command.Parameters.AddWithValue(version);
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)checkpoint.Pending?.RequestId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)waitingSince ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.AddWithValue(now);
        command.Parameters.Add(new NpgsqlParameter { Value = steps is { } json ? json.GetRawText() : DBNull.Value, NpgsqlDbType = NpgsqlDbType.Jsonb });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)currentStep ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.AddWithValue(checkpoint.Step * 5);
        return await command.ExecuteScalarAsync(cancellationToken) is int saved
            ? saved
            : throw new AgentCheckpointConflictException(jobId);
    }

    /// <summary>
    /// Hands the running task back to wait for the answer to its pending question: pending, with no
    /// queue entry, until <paramref name="timeoutAt"/> (when the dispatcher queues it again and it fails
    /// with <c>input_timeout</c> unless answered). False when the answer is already here: keep running.
    /// </summary>
    public async Task<bool> WaitForAnswerAsync(Guid jobId, string requestId, DateTimeOffset timeoutAt, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var lockRow = new NpgsqlCommand("SELECT request_id FROM agent_tasks WHERE job_id = $1 FOR UPDATE", connection, transaction))
        {
            lockRow.Parameters.AddWithValue(jobId);
            if (await lockRow.ExecuteScalarAsync(cancellationToken) is not string pending || pending != requestId)
            {
                return false;
            }
        }

        await using var wait = new NpgsqlCommand("""
            UPDATE jobs SET status = 'pending', hangfire_job_id = NULL, not_before = $2, updated_at = $3, attempts = GREATEST(attempts - 1, 0),
                   current_step = 'waiting for input',
                   steps = steps || jsonb_build_array(jsonb_build_object('at', $3::timestamptz, 'step', 'waiting for input',
                                                                         'request_id', $4::text, 'until', $2::timestamptz))
            WHERE id = $1 AND status = 'processing'
            """, connection, transaction);
        wait.Parameters.AddWithValue(jobId);
        wait.Parameters.AddWithValue(timeoutAt);
        wait.Parameters.AddWithValue(now);
        wait.Parameters.AddWithValue(requestId);
        await wait.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>
    /// A person's answer to question <paramref name="requestId"/> of the tenant's task, if it is pending
    /// and was asked less than <paramref name="inputTimeout"/> ago. A task that already handed its slot
    /// back is queued again at once (the row's NOTIFY wakes the dispatchers).
    /// </summary>
    public async Task<ProvideInputOutcome> ProvideInputAsync(
        Guid jobId, string tenantId, string requestId, string answer, TimeSpan inputTimeout, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var store = new NpgsqlCommand("""
            UPDATE agent_tasks t SET answer = $4, request_id = NULL, updated_at = $5
            FROM jobs j
            WHERE t.job_id = $1 AND j.id = t.job_id AND j.tenant_id = $2 AND j.kind = 'agent' AND j.status IN ('pending', 'processing')
              AND t.request_id = $3 AND t.waiting_since > $5 - $6
            """, connection, transaction))
        {
            store.Parameters.AddWithValue(jobId);
            store.Parameters.AddWithValue(tenantId);
            store.Parameters.AddWithValue(requestId);
            store.Parameters.AddWithValue(cipher.Seal(answer, SealContext.For(SealContext.AgentAnswer, jobId)));
            store.Parameters.AddWithValue(now);
            store.Parameters.AddWithValue(inputTimeout);
            if (await store.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                return ProvideInputOutcome.NotPending;
            }
        }

        await using var wake = new NpgsqlCommand($"""
            WITH woken AS (
                UPDATE jobs SET not_before = $2, updated_at = $2, current_step = 'input received',
                       steps = steps || jsonb_build_array(jsonb_build_object('at', $2::timestamptz, 'step', 'input received', 'request_id', $3::text))
                WHERE id = $1 AND status = 'pending' AND hangfire_job_id IS NULL
                RETURNING id)
            SELECT pg_notify('{JobStore.DispatchChannel}', '') FROM woken
            """, connection, transaction);
        wake.Parameters.AddWithValue(jobId);
        wake.Parameters.AddWithValue(now);
        wake.Parameters.AddWithValue(requestId);
        await wake.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return ProvideInputOutcome.Accepted;
    }

    /// <summary>Keeps these tasks attached (a session watches them) until <paramref name="until"/>, never shortening another replica's lease.</summary>
    public async Task AttachAsync(IReadOnlyCollection<Guid> jobIds, DateTimeOffset until, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (jobIds.Count == 0)
        {
            return;
        }

        await using var command = dataSource.CreateCommand("""
            INSERT INTO agent_tasks AS t (job_id, attached_until, updated_at)
            SELECT id, $2, $3 FROM jobs WHERE id = ANY($1) AND status IN ('pending', 'processing')
            ON CONFLICT (job_id) DO UPDATE SET attached_until = GREATEST(t.attached_until, EXCLUDED.attached_until)
            """);
        command.Parameters.AddWithValue(jobIds.ToArray());
        command.Parameters.AddWithValue(until);
        command.Parameters.AddWithValue(now);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Claims active tasks whose attachment lapsed (their client left and did not resume within the
    /// grace period): their lease is cleared, so each is claimed once, and the caller cancels them.
    /// </summary>
    public async Task<IReadOnlyList<Guid>> ClaimDetachedAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE agent_tasks t SET attached_until = NULL, updated_at = $1
            FROM jobs j
            WHERE j.id = t.job_id AND t.attached_until < $1 AND j.status IN ('pending', 'processing')
            RETURNING t.job_id
            """);
        command.Parameters.AddWithValue(now);
        var ids = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(reader.GetGuid(0));
        }

        return ids;
    }

    /// <summary>A key's agent tasks that are pending, running or waiting for input (for its cap).</summary>
    public async Task<int> CountActiveAsync(Guid apiKeyId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT count(*) FROM jobs WHERE api_key_id = $1 AND kind = 'agent' AND status IN ('pending', 'processing')");
        command.Parameters.AddWithValue(apiKeyId);
        return (int)(long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}

/// <summary>Another run of the same task stored a newer checkpoint: this run must stop.</summary>
public sealed class AgentCheckpointConflictException(Guid jobId)
    : Exception($"Agent task {jobId} was checkpointed by another run; this run stops.");
