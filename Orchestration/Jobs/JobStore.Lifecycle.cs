using System.Text.Json;
using Npgsql;

namespace AspireLlm.Orchestration.Jobs;

public sealed partial class JobStore
{
    /// <summary>
    /// Moves a pending (or interrupted processing) job to processing, counts the attempt and records
    /// which worker runs it. Returns null when the job is already final: a repeated delivery then does nothing.
    /// </summary>
    public async Task<JobRecord?> TryStartAsync(Guid id, Guid dispatchId, string worker, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            UPDATE jobs SET status = 'processing', attempts = attempts + 1, progress = GREATEST(progress, 10),
                   current_step = 'running', started_at = COALESCE(started_at, $2), updated_at = $2, worker = $3,
                   steps = steps || jsonb_build_array(jsonb_build_object('at', $2::timestamptz, 'step', 'running', 'worker', $3::text))
            WHERE id = $1 AND status IN ('pending', 'processing') AND dispatch_id = $4
            RETURNING {Columns}
            """);
        command.Parameters.AddWithValue(id);
        command.Parameters.AddWithValue(now);
        command.Parameters.AddWithValue(worker);
        command.Parameters.AddWithValue(dispatchId);
        return await ReadSingleAsync(command, cancellationToken);
    }

    /// <summary>Stores the result; charges and notifies once. False when another delivery finished it first.</summary>
    public Task<bool> CompleteAsync(
        JobRecord job, JsonElement result, JsonElement usage, UsageEntry charge, DateTimeOffset now, CancellationToken cancellationToken) =>
        FinishAsync(job.Id, [JobStatus.Processing], JobStatus.Completed, result, usage, error: null, charge, now, cancellationToken);

    /// <summary>Marks a job failed with an error the client can read, and notifies.</summary>
    /// <param name="charge">What the job used before it failed (an agent task's earlier model calls), if anything.</param>
    public Task<bool> FailAsync(Guid id, string code, string message, DateTimeOffset now, CancellationToken cancellationToken, UsageEntry? charge = null) =>
        FinishAsync(id, [JobStatus.Pending, JobStatus.Processing], JobStatus.Failed, result: null, usage: charge is null ? null : UsageJson(charge),
            JsonSerializer.SerializeToElement(new { code, message }), charge, now, cancellationToken);

    private static JsonElement UsageJson(UsageEntry charge) => JsonSerializer.SerializeToElement(new
    {
        prompt_tokens = charge.InputTokens,
        completion_tokens = charge.OutputTokens,
        total_tokens = charge.InputTokens + charge.OutputTokens,
    });

    /// <summary>Ends a running job that observed its cancellation; what it used so far is still charged.</summary>
    public Task<bool> MarkCancelledAsync(Guid id, JsonElement? usage, UsageEntry? charge, DateTimeOffset now, CancellationToken cancellationToken) =>
        FinishAsync(id, [JobStatus.Processing], JobStatus.Cancelled, result: null, usage,
            JsonSerializer.SerializeToElement(new { code = "cancelled", message = "The job was cancelled." }), charge, now, cancellationToken);

    /// <summary>Cancels a job that has not started: it never will.</summary>
    public Task<bool> CancelPendingAsync(Guid id, DateTimeOffset now, CancellationToken cancellationToken) =>
        FinishAsync(id, [JobStatus.Pending], JobStatus.Cancelled, result: null, usage: null,
            JsonSerializer.SerializeToElement(new { code = "cancelled", message = "The job was cancelled before it started." }),
            charge: null, now, cancellationToken);

    /// <summary>Asks the worker running the job to stop; false when the job is not running.</summary>
    public async Task<bool> RequestCancelAsync(Guid id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE jobs SET cancel_requested_at = COALESCE(cancel_requested_at, $2), updated_at = $2,
                   steps = steps || jsonb_build_array(jsonb_build_object('at', $2::timestamptz, 'step', 'cancel requested'))
            WHERE id = $1 AND status = 'processing' AND cancel_requested_at IS NULL
            """);
        command.Parameters.AddWithValue(id);
        command.Parameters.AddWithValue(now);
        // A repeated request for the same run changes nothing (and does not grow the step log).
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1 || await IsCancelRequestedAsync(id, cancellationToken);
    }

    private async Task<bool> IsCancelRequestedAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT EXISTS (SELECT 1 FROM jobs WHERE id = $1 AND status = 'processing' AND cancel_requested_at IS NOT NULL)");
        command.Parameters.AddWithValue(id);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Of the given running jobs, those whose cancellation was requested.</summary>
    public async Task<IReadOnlyList<Guid>> CancelRequestedAsync(IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT id FROM jobs WHERE id = ANY($1) AND cancel_requested_at IS NOT NULL");
        command.Parameters.AddWithValue(ids.ToArray());
        var requested = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            requested.Add(reader.GetGuid(0));
        }

        return requested;
    }

    /// <summary>Returns a job to pending after a transient failure or a shutdown, before Hangfire runs it again.</summary>
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
    /// Hands a running job back to wait until <paramref name="notBefore"/>: pending, with no queue entry,
    /// so the dispatcher queues it again when it is due (within one sweep). The step log says why and
    /// until when. A wait for a rate limit does not use up one of the job's attempts.
    /// </summary>
    /// <param name="waitingFor">What the job waits for, as the current step shows it ("the rate limit", "a retry").</param>
    public async Task DeferAsync(
        Guid id, DateTimeOffset notBefore, string waitingFor, string reason, bool countsAsAttempt, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE jobs SET status = 'pending', hangfire_job_id = NULL, not_before = $2, updated_at = $4,
                   attempts = attempts - CASE WHEN $5 THEN 0 ELSE 1 END,
                   current_step = 'waiting for ' || $6 || ' until ' || to_char($2 AT TIME ZONE 'UTC', 'HH24:MI:SS') || ' UTC',
                   steps = steps || jsonb_build_array(jsonb_build_object(
                       'at', $4::timestamptz, 'step', 'waiting', 'for', $6::text, 'reason', $3::text, 'until', $2::timestamptz))
            WHERE id = $1 AND status = 'processing'
            """);
        command.Parameters.AddWithValue(id);
        command.Parameters.AddWithValue(notBefore);
        command.Parameters.AddWithValue(reason);
        command.Parameters.AddWithValue(now);
        command.Parameters.AddWithValue(countsAsAttempt);
        command.Parameters.AddWithValue(waitingFor);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// An operator's retry of a failed or cancelled job: a new run, with its own charge and webhook.
    /// Returns null when the job is not in a state that can be retried (or its input was erased).
    /// </summary>
    /// <param name="traceParent">The retrying request's trace context: the new run's spans belong to its trace.</param>
    public async Task<JobRecord?> RetryAsync(
        Guid id, DateTimeOffset now, CancellationToken cancellationToken, string? traceParent = null, string? traceState = null)
    {
        await using var command = dataSource.CreateCommand($"""
            UPDATE jobs SET status = 'pending', run = run + 1, attempts = 0, progress = 0, result = NULL, error = NULL,
                   usage = NULL, hangfire_job_id = NULL, dispatch_id = NULL, cancel_requested_at = NULL, completed_at = NULL, updated_at = $2,
                   current_step = 'retried by an operator', trace_parent = COALESCE($3, trace_parent), trace_state = CASE WHEN $3 IS NULL THEN trace_state ELSE $4 END,
                   steps = steps || jsonb_build_array(jsonb_build_object('at', $2::timestamptz, 'step', 'retried by an operator'))
            WHERE id = $1 AND status IN ('failed', 'cancelled') AND content_erased_at IS NULL
            RETURNING {Columns}, pg_notify('{DispatchChannel}', '')
            """);
        command.Parameters.AddWithValue(id);
        command.Parameters.AddWithValue(now);
        command.Parameters.Add(NullableText(traceParent));
        command.Parameters.Add(NullableText(traceState));
        return await ReadSingleAsync(command, cancellationToken);
    }

    /// <summary>
    /// Hands jobs that made no progress for too long back to the dispatcher (their Hangfire job was
    /// lost, or failed while the row could not be updated). The fresh dispatch id fences off the old
    /// Hangfire job should it ever run. Returns how many rows were released.
    /// </summary>
    public async Task<int> ReleaseStaleAsync(string kind, DateTimeOffset pendingBefore, DateTimeOffset processingBefore, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(ReleaseStaleSql);
        command.Parameters.AddWithValue(kind);
        command.Parameters.AddWithValue(pendingBefore);
        command.Parameters.AddWithValue(processingBefore);
        command.Parameters.AddWithValue(now);
        return await command.ExecuteNonQueryAsync(cancellationToken) + await ReleaseFetchedButNeverStartedAsync(kind, now, cancellationToken);
    }

    // It runs every few seconds: the status condition lets it use the small index over active jobs
    // (migration 0008) instead of scanning every job ever run.
    internal const string ReleaseStaleSql = $"""
        UPDATE jobs SET hangfire_job_id = NULL, updated_at = $4,
               steps = steps || jsonb_build_array(jsonb_build_object('at', $4::timestamptz, 'step', 'dispatched again after no progress'))
        WHERE kind = $1 AND status IN ('pending', 'processing') AND hangfire_job_id IS NOT NULL
          AND ((status = 'pending' AND updated_at < $2) OR (status = 'processing' AND updated_at < $3)
               OR (hangfire_job_id = '{Dispatching}' AND updated_at < $4 - interval '30 seconds'))
        """;

    /// <summary>
    /// A Hangfire queue entry that a worker fetched but whose job never left Hangfire's Enqueued state
    /// has lost its run: a fetched job starts within milliseconds. Seen once under load (with
    /// Hangfire.PostgreSql's long polling, since turned off): the fetch was kept alive by the sliding
    /// invisibility timeout with no worker running it, so it would only have been found by the
    /// 15-minute pending sweep. Such rows go back to the dispatcher after a minute, and the orphaned
    /// queue entry is deleted (which also stops its keep-alive).
    /// </summary>
    private async Task<int> ReleaseFetchedButNeverStartedAsync(string kind, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            WITH stuck AS (
                SELECT jobs.id, queue.id AS queue_id
                FROM jobs
                JOIN {HangfireSchema}.jobqueue queue ON queue.jobid::text = jobs.hangfire_job_id
                JOIN {HangfireSchema}.job hangfire_job ON hangfire_job.id = queue.jobid
                WHERE jobs.kind = $1 AND jobs.status = 'pending' AND jobs.updated_at < $2 - interval '1 minute'
                  AND queue.fetchedat IS NOT NULL AND hangfire_job.statename = 'Enqueued'),
            orphaned AS (DELETE FROM {HangfireSchema}.jobqueue WHERE id IN (SELECT queue_id FROM stuck))
            UPDATE jobs SET hangfire_job_id = NULL, updated_at = $2,
                   steps = steps || jsonb_build_array(jsonb_build_object('at', $2::timestamptz, 'step', 'dispatched again: fetched but never started'))
            WHERE id IN (SELECT id FROM stuck)
            """);
        command.Parameters.AddWithValue(kind);
        command.Parameters.AddWithValue(now);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private const string HangfireSchema = Storage.DatabaseMigrator.HangfireSchema;

    /// <summary>Progress of a running job, for pollers (events carry it live).</summary>
    public async Task ReportProgressAsync(Guid id, int progress, string step, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE jobs SET progress = $2, current_step = $3, updated_at = $4 WHERE id = $1 AND status = 'processing'
            """);
        command.Parameters.AddWithValue(id);
        command.Parameters.AddWithValue(Math.Clamp(progress, 0, 100));
        command.Parameters.AddWithValue(step);
        command.Parameters.AddWithValue(now);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
