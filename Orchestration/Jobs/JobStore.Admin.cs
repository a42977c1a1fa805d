namespace AspireLlm.Orchestration.Jobs;

/// <summary>Which jobs an operator lists: any filter may be left out; newest first.</summary>
public sealed record JobFilter(
    string? TenantId = null, string? Kind = null, string? Status = null, DateTimeOffset? From = null, DateTimeOffset? To = null,
    int Limit = 50, int Offset = 0);

/// <summary>A job's metadata for the operators' list (never its content, which is not even read).</summary>
public sealed record JobListItem(
    Guid Id, string TenantId, string Kind, string Status, int Progress, string? CurrentStep, int Attempts, int Run,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? CompletedAt);

public sealed partial class JobStore
{
    /// <summary>Counting stops here: past it the list says "more than", and the count stays cheap on any table.</summary>
    public const int CountCap = 10_000;

    /// <summary>A page of jobs matching <paramref name="filter"/>, and how many match (at most <see cref="CountCap"/> + 1).</summary>
    public async Task<(IReadOnlyList<JobListItem> Items, int Total)> ListAsync(JobFilter filter, CancellationToken cancellationToken)
    {
        const string Where = """
            WHERE ($1::text IS NULL OR tenant_id = $1) AND ($2::text IS NULL OR kind = $2) AND ($3::text IS NULL OR status = $3)
              AND ($4::timestamptz IS NULL OR created_at >= $4) AND ($5::timestamptz IS NULL OR created_at < $5)
            """;
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(new($"""
            SELECT id, tenant_id, kind, status, progress, current_step, attempts, run, created_at, updated_at, completed_at
            FROM jobs {Where} ORDER BY created_at DESC LIMIT $6 OFFSET $7
            """));
        batch.BatchCommands.Add(new($"SELECT count(*) FROM (SELECT 1 FROM jobs {Where} LIMIT {CountCap + 1}) AS capped"));
        foreach (var command in batch.BatchCommands)
        {
            command.Parameters.Add(NullableText(filter.TenantId));
            command.Parameters.Add(NullableText(filter.Kind));
            command.Parameters.Add(NullableText(filter.Status));
            command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = (object?)filter.From ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
            command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = (object?)filter.To ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        }

        batch.BatchCommands[0].Parameters.Add(new Npgsql.NpgsqlParameter { Value = filter.Limit });
        batch.BatchCommands[0].Parameters.Add(new Npgsql.NpgsqlParameter { Value = filter.Offset });

        var items = new List<JobListItem>();
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            items.Add(new JobListItem(
                reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetInt32(4),
                reader.IsDBNull(5) ? null : reader.GetString(5), reader.GetInt32(6), reader.GetInt32(7),
                reader.GetFieldValue<DateTimeOffset>(8), reader.GetFieldValue<DateTimeOffset>(9),
                reader.IsDBNull(10) ? null : reader.GetFieldValue<DateTimeOffset>(10)));
        }

        await reader.NextResultAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (items, (int)reader.GetInt64(0));
    }
}
