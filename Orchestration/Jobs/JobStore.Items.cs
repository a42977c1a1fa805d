using System.Text.Json;
using AspireLlm.Orchestration.Encryption;

namespace AspireLlm.Orchestration.Jobs;

/// <summary>One finished item of a batch run. Its result is sealed at rest; its error (our code and a redacted message) is not.</summary>
public sealed record JobItem(int Index, string Status, JsonElement? Result, JsonElement? Error, int InputTokens, int OutputTokens, decimal Cost = 0m);

public sealed partial class JobStore
{
    /// <summary>Keeps a finished batch item; a repeated run of the same item keeps the first.</summary>
    public async Task SaveItemAsync(Guid jobId, int run, JobItem item, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO job_items (job_id, run, item_index, status, result, error, input_tokens, output_tokens, cost, completed_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            ON CONFLICT (job_id, run, item_index) DO NOTHING
            """);
        command.Parameters.AddWithValue(jobId);
        command.Parameters.AddWithValue(run);
        command.Parameters.AddWithValue(item.Index);
        command.Parameters.AddWithValue(item.Status);
        command.Parameters.Add(SealedParameter(item.Result, SealContext.JobItemResult, jobId, run, item.Index));
        command.Parameters.Add(NullableJson(item.Error));
        command.Parameters.AddWithValue(item.InputTokens);
        command.Parameters.AddWithValue(item.OutputTokens);
        command.Parameters.AddWithValue(item.Cost);
        command.Parameters.AddWithValue(now);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The items of this run that are already finished, by index.</summary>
    public async Task<IReadOnlyDictionary<int, JobItem>> GetItemsAsync(Guid jobId, int run, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT item_index, status, result, error, input_tokens, output_tokens, cost FROM job_items WHERE job_id = $1 AND run = $2
            """);
        command.Parameters.AddWithValue(jobId);
        command.Parameters.AddWithValue(run);
        var items = new Dictionary<int, JobItem>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var index = reader.GetInt32(0);
            items[index] = new JobItem(
                index, reader.GetString(1), Open(reader, 2, SealContext.JobItemResult, jobId, run, index), ParseJson(reader, 3),
                reader.GetInt32(4), reader.GetInt32(5), reader.GetDecimal(6));
        }

        return items;
    }
}
