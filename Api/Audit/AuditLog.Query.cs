using System.Text.Json;
using Npgsql;

namespace AspireLlm.Api.Audit;

/// <summary>One audit row as <c>GET /v1/admin/audit</c> shows it.</summary>
public sealed record AuditEntryView(
    long Id, DateTimeOffset OccurredAt, Guid? ActorKeyId, string ActorPrefix, string Action, string Target,
    JsonElement Details, string? ClientAddress, string? ForwardedFor);

/// <summary>A page of the audit log, newest first; pass <see cref="NextBefore"/> as <c>before</c> for the next page.</summary>
public sealed record AuditPage(IReadOnlyList<AuditEntryView> Items, long? NextBefore);

/// <summary>Which rows to read: older than <c>Before</c>, optionally of one action or one actor (key id or public prefix).</summary>
public sealed record AuditQuery(int Limit, long? Before, string? Action, Guid? ActorKeyId, string? ActorPrefix);

public sealed partial class AuditLog
{
    /// <summary>Reads a page by id (a cursor that never skips or repeats a row, unlike an offset as rows are added).</summary>
    public async Task<AuditPage> ReadAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT id, occurred_at, actor_key_id, actor_prefix, action, target, details::text, client_address, forwarded_for
            FROM audit_log
            WHERE ($1::bigint IS NULL OR id < $1)
              AND ($2::text IS NULL OR action = $2)
              AND ($3::uuid IS NULL OR actor_key_id = $3)
              AND ($4::text IS NULL OR actor_prefix = $4)
            ORDER BY id DESC
            LIMIT $5
            """);
        command.Parameters.Add(new NpgsqlParameter<long?> { TypedValue = query.Before });
        command.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = query.Action });
        command.Parameters.Add(new NpgsqlParameter<Guid?> { TypedValue = query.ActorKeyId });
        command.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = query.ActorPrefix });
        command.Parameters.AddWithValue(query.Limit + 1);

        var items = new List<AuditEntryView>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            items.Add(new AuditEntryView(
                reader.GetInt64(0), reader.GetFieldValue<DateTimeOffset>(1), reader.IsDBNull(2) ? null : reader.GetGuid(2),
                reader.GetString(3), reader.GetString(4), reader.GetString(5), JsonElement.Parse(reader.GetString(6)),
                reader.IsDBNull(7) ? null : reader.GetString(7), reader.IsDBNull(8) ? null : reader.GetString(8)));
        }

        // One row more than asked for says whether there is a next page, without a count.
        return items.Count > query.Limit
            ? new AuditPage(items[..query.Limit], items[query.Limit - 1].Id)
            : new AuditPage(items, null);
    }
}
