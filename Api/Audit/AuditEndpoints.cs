using AspireLlm.Api.Errors;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AspireLlm.Api.Audit;

/// <summary><c>GET /v1/admin/audit</c>: the audit log, read-only (there is no route that changes it).</summary>
public static class AuditEndpoints
{
    public const int MaxLimit = 500;

    public static RouteGroupBuilder MapAdminAudit(this RouteGroupBuilder group)
    {
        group.MapGet("/audit", ReadAsync).WithName("AdminReadAudit");
        return group;
    }

    /// <summary>
    /// Newest first, <paramref name="limit"/> rows older than <paramref name="before"/> (an id from
    /// <c>next_before</c>); <paramref name="actor"/> is a key id or a public prefix (<c>system</c> for start-up).
    /// </summary>
    internal static async Task<Results<Ok<AuditPage>, ProblemHttpResult>> ReadAsync(
        AuditLog audit, CancellationToken cancellationToken, int limit = 50, long? before = null, string? action = null, string? actor = null)
    {
        var errors = new Dictionary<string, string[]>();
        if (limit is < 1 or > MaxLimit)
        {
            errors["limit"] = [$"The limit must be between 1 and {MaxLimit}."];
        }

        if (before is < 1)
        {
            errors["before"] = ["Must be an id from 'next_before'."];
        }

        if (action?.Length > 100 || actor?.Length > 100)
        {
            errors[action?.Length > 100 ? "action" : "actor"] = ["At most 100 characters."];
        }

        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        var actorKeyId = Guid.TryParse(actor, out var id) ? id : (Guid?)null;
        var query = new AuditQuery(limit, before, string.IsNullOrEmpty(action) ? null : action, actorKeyId,
            actorKeyId is null && !string.IsNullOrEmpty(actor) ? actor : null);
        return TypedResults.Ok(await audit.ReadAsync(query, cancellationToken));
    }
}
