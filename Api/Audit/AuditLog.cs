using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace AspireLlm.Api.Audit;

/// <summary>
/// Appends rows to the audit log. Key and tenant changes write their row inside the change's own
/// transaction (<see cref="AppendAsync(NpgsqlTransaction, AuditActor, string, string, object?, CancellationToken)"/>),
/// so there is never a change without its row nor a row for a change that rolled back. Job actions
/// go through the job store the Worker shares, in its own statements; their row is written right
/// after the change, with no cancellation, so a client that hangs up cannot skip it.
/// </summary>
public sealed partial class AuditLog(NpgsqlDataSource dataSource, TimeProvider timeProvider)
{
    internal static readonly JsonSerializerOptions DetailsJson = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    private const string InsertSql = """
        INSERT INTO audit_log (occurred_at, actor_key_id, actor_prefix, action, target, details, client_address, forwarded_for)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        """;

    /// <summary>Appends a row in its own statement, after a change committed elsewhere.</summary>
    public async Task AppendAsync(AuditActor actor, string action, string target, object? details)
    {
        await using var command = dataSource.CreateCommand(InsertSql);
        AddParameters(command, actor, action, target, details);
        await command.ExecuteNonQueryAsync(CancellationToken.None);
    }

    /// <summary>Appends a row inside the transaction that makes the change.</summary>
    public async Task AppendAsync(
        NpgsqlTransaction transaction, AuditActor actor, string action, string target, object? details, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(InsertSql, transaction.Connection, transaction);
        AddParameters(command, actor, action, target, details);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private void AddParameters(NpgsqlCommand command, AuditActor actor, string action, string target, object? details)
    {
        command.Parameters.AddWithValue(timeProvider.GetUtcNow());
        command.Parameters.Add(new NpgsqlParameter<Guid?> { TypedValue = actor.KeyId });
        command.Parameters.AddWithValue(actor.Prefix);
        command.Parameters.AddWithValue(action);
        command.Parameters.AddWithValue(target);
        command.Parameters.Add(new NpgsqlParameter<string>
        {
            NpgsqlDbType = NpgsqlDbType.Jsonb,
            TypedValue = details is null ? "{}" : JsonSerializer.Serialize(details, DetailsJson),
        });
        command.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = actor.ClientAddress });
        command.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = actor.ForwardedFor });
    }
}
