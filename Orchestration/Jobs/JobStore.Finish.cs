using System.Text.Json;
using Npgsql;

namespace AspireLlm.Orchestration.Jobs;

// How a job reaches its final status: one guarded statement with its ledger row, and its webhook when it has one.
public sealed partial class JobStore
{
    /// <summary>
    /// The one way a job reaches a terminal state: the status change, the ledger row and the webhook
    /// outbox row commit together, guarded by the job's current status. False (and nothing written)
    /// when the job was not in one of <paramref name="from"/>.
    /// </summary>
    private async Task<bool> FinishAsync(
        Guid id, string[] from, string status, JsonElement? result, JsonElement? usage, JsonElement? error,
        UsageEntry? charge, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);

        // Most jobs have no webhook: one statement, with no transaction around it, moves the job and writes
        // its ledger row (it was three round trips: the update, the ledger row and the commit). A job with a
        // webhook is left alone by it and finished in a transaction with its delivery.
        await using (var withoutWebhook = FinishCommand(connection, null, id, from, status, result, usage, error, charge, now, onlyWithoutWebhook: true))
        {
            if (await ReadFinishedAsync(withoutWebhook, cancellationToken) is not null)
            {
                return true;
            }
        }

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var finish = FinishCommand(connection, transaction, id, from, status, result, usage, error, charge, now, onlyWithoutWebhook: false);
        if (await ReadFinishedAsync(finish, cancellationToken) is not { } finished)
        {
            return false;
        }

        if (finished.WebhookUrl is { } webhookUrl)
        {
            var summary = new JobSummary(id, finished.Kind, status, result, error, usage, finished.CreatedAt, now);
            await QueueWebhookAsync(connection, transaction, summary, finished.Run, webhookUrl, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    private sealed record FinishedRun(int Run, string Kind, DateTimeOffset CreatedAt, string? WebhookUrl);

    private static async Task<FinishedRun?> ReadFinishedAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new FinishedRun(reader.GetInt32(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2), reader.IsDBNull(3) ? null : reader.GetString(3))
            : null;
    }

    /// <summary>The job moved to its final status and, when it used anything, its ledger row, in one statement.</summary>
    private NpgsqlCommand FinishCommand(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid id, string[] from, string status, JsonElement? result,
        JsonElement? usage, JsonElement? error, UsageEntry? charge, DateTimeOffset now, bool onlyWithoutWebhook)
    {
        var command = new NpgsqlCommand(charge is null ? FinishSql : FinishAndChargeSql, connection, transaction);
        command.Parameters.AddWithValue(id);
        command.Parameters.AddWithValue(status);
        command.Parameters.Add(SealedParameter(result, Encryption.SealContext.JobResult, id));
        command.Parameters.Add(NullableJson(usage));
        command.Parameters.Add(NullableJson(error));
        command.Parameters.AddWithValue(now);
        command.Parameters.AddWithValue(from);
        command.Parameters.AddWithValue(onlyWithoutWebhook);
        if (charge is not null)
        {
            command.Parameters.AddWithValue(charge.ModelAlias);
            command.Parameters.AddWithValue(charge.ProviderModel);
            command.Parameters.AddWithValue(charge.InputTokens);
            command.Parameters.AddWithValue(charge.OutputTokens);
            command.Parameters.AddWithValue(charge.Cost);
        }

        return command;
    }

    private const string FinishedCte = """
        WITH finished AS (
            UPDATE jobs SET status = $2, current_step = $2, result = $3, usage = $4, error = $5, completed_at = $6, updated_at = $6,
                   progress = CASE WHEN $2 = 'completed' THEN 100 ELSE progress END,
                   steps = steps || jsonb_build_array(jsonb_build_object('at', $6::timestamptz, 'step', $2))
            WHERE id = $1 AND status = ANY($7) AND (NOT $8 OR webhook_url IS NULL)
            RETURNING tenant_id, api_key_id, run, kind, created_at, webhook_url)
        """;

    private const string FinishedRow = "\nSELECT run, kind, created_at, webhook_url FROM finished";

    // Without a charge the ledger is not named at all: its statement trigger would fire even for no rows.
    private const string FinishSql = FinishedCte + FinishedRow;

    private const string FinishAndChargeSql = FinishedCte + """
        , charged AS (
            INSERT INTO usage_ledger (tenant_id, api_key_id, job_id, run, model_alias, provider_model, input_tokens, output_tokens, cost, created_at)
            SELECT tenant_id, api_key_id, $1, run, $9, $10, $11, $12, $13, $6 FROM finished
            ON CONFLICT (job_id, run) WHERE job_id IS NOT NULL DO NOTHING)
        """ + FinishedRow;
}
