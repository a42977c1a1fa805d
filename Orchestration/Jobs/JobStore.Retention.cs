namespace AspireLlm.Orchestration.Jobs;

/// <summary>What <see cref="JobStore.EraseContentAsync"/> did.</summary>
public enum EraseOutcome
{
    Erased,
    NotFound,

    /// <summary>The job is pending or running: it needs its input until it ends (cancel it first).</summary>
    NotFinished,
}

public sealed partial class JobStore
{
    /// <summary>
    /// Empties finished jobs' content in one transaction: input and result, the error's message (the
    /// code stays), batch items, an agent task's checkpoint, and the webhook body (a delivery not yet made is abandoned). The row
    /// keeps its metadata (status, steps, usage, times) and the usage ledger keeps its rows. <c>$1</c>
    /// is the time; the selection names the rows with <c>$2</c> onwards and must lock them.
    /// </summary>
    private const string EraseSql = """
        WITH target AS ({0}),
        erased AS (
            UPDATE jobs SET input = NULL, result = NULL, legacy_input = NULL, legacy_result = NULL,
                   error = CASE WHEN error IS NULL THEN NULL ELSE jsonb_build_object('code', error->'code') END,
                   steps = CASE WHEN content_erased_at IS NULL
                                THEN steps || jsonb_build_array(jsonb_build_object('at', $1::timestamptz, 'step', 'content erased'))
                                ELSE steps END,
                   content_erased_at = COALESCE(content_erased_at, $1)
            FROM target WHERE jobs.id = target.id
            RETURNING jobs.id),
        items AS (DELETE FROM job_items WHERE job_id IN (SELECT id FROM erased)),
        agents AS (DELETE FROM agent_tasks WHERE job_id IN (SELECT id FROM erased)),
        hooks AS (
            UPDATE webhook_deliveries SET payload = NULL, legacy_payload = NULL,
                   status = CASE WHEN status = 'pending' THEN 'failed' ELSE status END
            WHERE job_id IN (SELECT id FROM erased))
        SELECT id FROM erased
        """;

    private const string Finished = "status IN ('completed', 'failed', 'cancelled')";

    /// <summary>
    /// Erases the content of one of the tenant's jobs (<c>DELETE /v1/jobs/{id}</c>); erasing twice is
    /// the same as once. Returns the job as it now stands, or why nothing was erased.
    /// </summary>
    public async Task<(EraseOutcome Outcome, JobRecord? Job)> EraseContentAsync(
        Guid id, string tenantId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(string.Format(System.Globalization.CultureInfo.InvariantCulture, EraseSql,
            $"SELECT id FROM jobs WHERE id = $2 AND tenant_id = $3 AND {Finished} FOR UPDATE"));
        command.Parameters.AddWithValue(now);
        command.Parameters.AddWithValue(id);
        command.Parameters.AddWithValue(tenantId);
        var erased = await command.ExecuteScalarAsync(cancellationToken) is not null;

        var job = await GetForTenantAsync(id, tenantId, cancellationToken);
        return (job is null ? EraseOutcome.NotFound : erased ? EraseOutcome.Erased : EraseOutcome.NotFinished, job);
    }

    /// <summary>
    /// Retention: erases the content of up to <paramref name="limit"/> jobs that finished before
    /// <paramref name="finishedBefore"/>, oldest first, skipping rows another purger holds. Returns
    /// their ids (so their Redis events can go too); fewer than the limit means none are left.
    /// </summary>
    public async Task<IReadOnlyList<Guid>> PurgeContentAsync(
        DateTimeOffset finishedBefore, int limit, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(string.Format(System.Globalization.CultureInfo.InvariantCulture, EraseSql, $"""
            SELECT id FROM jobs WHERE content_erased_at IS NULL AND completed_at IS NOT NULL AND completed_at < $2 AND {Finished}
            ORDER BY completed_at LIMIT $3 FOR UPDATE SKIP LOCKED
            """));
        command.Parameters.AddWithValue(now);
        command.Parameters.AddWithValue(finishedBefore);
        command.Parameters.AddWithValue(limit);
        var ids = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(reader.GetGuid(0));
        }

        return ids;
    }
}
