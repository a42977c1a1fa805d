using System.Runtime.InteropServices;
using System.Text.Json;
using AspireLlm.Orchestration.Encryption;
using Npgsql;
using NpgsqlTypes;

namespace AspireLlm.Orchestration.Jobs;

public sealed partial class JobStore
{
    /// <summary>Content sealed for one place (field, row, part): see <see cref="SealContext"/>.</summary>
    private byte[] Seal(JsonElement value, string field, Guid id, params ReadOnlySpan<int> parts) =>
        cipher.Seal(JsonMarshal.GetRawUtf8Value(value), SealContext.For(field, id, parts));

    private NpgsqlParameter SealedParameter(JsonElement? value, string field, Guid id, params ReadOnlySpan<int> parts) =>
        new() { Value = value is { } json ? Seal(json, field, id, parts) : DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bytea };

    private JsonElement? Open(NpgsqlDataReader reader, int ordinal, string field, Guid id, params ReadOnlySpan<int> parts)
    {
        if (reader.IsDBNull(ordinal))
        {
            return null;
        }

        using var document = JsonDocument.Parse(cipher.Open(reader.GetFieldValue<byte[]>(ordinal), SealContext.For(field, id, parts)));
        return document.RootElement.Clone();
    }

    private async Task<JobRecord?> ReadSingleAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    private async Task<IReadOnlyList<JobRecord>> ReadAllAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var jobs = new List<JobRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            jobs.Add(Read(reader));
        }

        return jobs;
    }

    private JobRecord Read(NpgsqlDataReader reader)
    {
        var id = reader.GetGuid(0);
        return new(
            Id: id,
            TenantId: reader.GetString(1),
            ApiKeyId: reader.GetGuid(2),
            Kind: reader.GetString(3),
            Status: reader.GetString(4),
            Progress: reader.GetInt32(5),
            CurrentStep: reader.IsDBNull(6) ? null : reader.GetString(6),
            Steps: ParseJson(reader, 7)!.Value,
            // Erased content reads as an undefined input and no result (only finished jobs are erased).
            Input: Open(reader, 8, SealContext.JobInput, id) ?? default,
            Result: Open(reader, 9, SealContext.JobResult, id),
            Error: ParseJson(reader, 10),
            Usage: ParseJson(reader, 11),
            Attempts: reader.GetInt32(12),
            IdempotencyKey: reader.IsDBNull(13) ? null : reader.GetString(13),
            RequestHash: reader.GetFieldValue<byte[]>(14),
            HangfireJobId: reader.IsDBNull(15) ? null : reader.GetString(15),
            CreatedAt: reader.GetFieldValue<DateTimeOffset>(16),
            StartedAt: reader.IsDBNull(17) ? null : reader.GetFieldValue<DateTimeOffset>(17),
            CompletedAt: reader.IsDBNull(18) ? null : reader.GetFieldValue<DateTimeOffset>(18),
            UpdatedAt: reader.GetFieldValue<DateTimeOffset>(19),
            WebhookUrl: reader.IsDBNull(20) ? null : reader.GetString(20),
            CancelRequestedAt: reader.IsDBNull(21) ? null : reader.GetFieldValue<DateTimeOffset>(21),
            Worker: reader.IsDBNull(22) ? null : reader.GetString(22),
            Run: reader.GetInt32(23),
            DispatchId: reader.IsDBNull(24) ? null : reader.GetGuid(24),
            ContentErasedAt: reader.IsDBNull(25) ? null : reader.GetFieldValue<DateTimeOffset>(25),
            TraceParent: reader.IsDBNull(26) ? null : reader.GetString(26),
            TraceState: reader.IsDBNull(27) ? null : reader.GetString(27));
    }

    private static JsonElement? ParseJson(NpgsqlDataReader reader, int ordinal)
    {
        if (reader.IsDBNull(ordinal))
        {
            return null;
        }

        using var document = JsonDocument.Parse(reader.GetString(ordinal));
        return document.RootElement.Clone();
    }
}
