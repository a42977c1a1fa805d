using AspireLlm.Api.ApiKeys;
using AspireLlm.Api.Audit;
using AspireLlm.Api.Errors;
using AspireLlm.Orchestration.Embeddings;
using AspireLlm.Orchestration.Routing;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AspireLlm.Api.Admin;

/// <summary>Key management for admins: create (the plain key is shown once), list, change, revoke; each change is audited.</summary>
public static class AdminKeysEndpoints
{
    public static RouteGroupBuilder MapAdminKeys(this RouteGroupBuilder group)
    {
        group.MapPost("/keys", CreateAsync).WithName("AdminCreateKey");
        group.MapGet("/keys", ListAsync).WithName("AdminListKeys");
        group.MapGet("/keys/{id:guid}", GetAsync).WithName("AdminGetKey");
        group.MapPut("/keys/{id:guid}", UpdateAsync).WithName("AdminUpdateKey");
        group.MapPost("/keys/{id:guid}/revoke", RevokeAsync).WithName("AdminRevokeKey");
        return group;
    }

    /// <summary>Creates a key; each limit the request leaves out is the tenant's default (see <see cref="ApiKeyStore.GetKeyDefaultsAsync"/>).</summary>
    internal static async Task<Results<Created<CreatedKeyView>, ProblemHttpResult>> CreateAsync(
        CreateKeyRequest request, HttpContext context, ApiKeyStore keys, ModelCatalog models, EmbeddingCatalog embeddings,
        CancellationToken cancellationToken)
    {
        var errors = request.Limits().Validate(models, embeddings);
        if (string.IsNullOrWhiteSpace(request.TenantId) || request.TenantId.Length > 100)
        {
            errors["tenant_id"] = ["The tenant id is required (at most 100 characters)."];
        }

        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 200)
        {
            errors["name"] = ["The name is required (at most 200 characters)."];
        }

        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        var defaults = await keys.GetKeyDefaultsAsync(request.TenantId!, cancellationToken);
        var (record, plain) = await keys.CreateAsync(
            request.TenantId!, request.Name!, request.IsAdmin, request.Over(defaults.Limits), AuditActor.From(context), cancellationToken);
        return TypedResults.Created($"/v1/admin/keys/{record.Id}", new CreatedKeyView(plain, KeyView.From(record)));
    }

    internal static async Task<Ok<IReadOnlyList<KeyView>>> ListAsync(ApiKeyStore keys, CancellationToken cancellationToken, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "tenant_id")] string? tenantId = null) =>
        TypedResults.Ok<IReadOnlyList<KeyView>>([.. (await keys.ListAsync(tenantId, cancellationToken)).Select(KeyView.From)]);

    internal static async Task<Results<Ok<KeyView>, ProblemHttpResult>> GetAsync(Guid id, ApiKeyStore keys, CancellationToken cancellationToken) =>
        await keys.GetAsync(id, cancellationToken) is { } record ? TypedResults.Ok(KeyView.From(record)) : Problems.NotFound($"No key {id}.");

    /// <summary>Renames a key and changes the limits the request sends; limits it leaves out stay as they are.</summary>
    internal static async Task<Results<Ok<KeyView>, ProblemHttpResult>> UpdateAsync(
        Guid id, UpdateKeyRequest request, HttpContext context, ApiKeyStore keys, ModelCatalog models, EmbeddingCatalog embeddings,
        CancellationToken cancellationToken)
    {
        var errors = request.Limits().Validate(models, embeddings);
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 200)
        {
            errors["name"] = ["The name is required (at most 200 characters)."];
        }

        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        return await keys.UpdateAsync(id, request.Name!, request.Over, AuditActor.From(context), cancellationToken) is { } record
            ? TypedResults.Ok(KeyView.From(record))
            : Problems.NotFound($"No key {id}.");
    }

    /// <summary>
    /// Revokes a key (again: no change). Refused with 409 for the last active admin key, which would
    /// lock every operator out, and for the configured bootstrap key, which the next start would
    /// restore anyway: that one is replaced by configuring another admin key.
    /// </summary>
    /// <summary>
    /// Revokes a key: every replica refuses it within a second (the key cache epoch), its open streams
    /// end as soon as their replica sees that, and the jobs it left pending or running are cancelled.
    /// </summary>
    internal static async Task<Results<NoContent, ProblemHttpResult>> RevokeAsync(
        Guid id, HttpContext context, ApiKeyStore keys, Jobs.JobCancellation jobs, CancellationToken cancellationToken)
    {
        var outcome = await keys.RevokeAsync(id, AuditActor.From(context), cancellationToken);
        if (outcome is RevokeOutcome.Revoked or RevokeOutcome.AlreadyRevoked)
        {
            // Also after a repeat: a revocation whose cancellations were cut short finishes them.
            await jobs.CancelAllOfKeyAsync(id, CancellationToken.None);
        }

        return outcome switch
        {
            RevokeOutcome.Revoked or RevokeOutcome.AlreadyRevoked => TypedResults.NoContent(),
            RevokeOutcome.LastAdminKey => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The last admin key cannot be revoked",
                detail: $"Key {id} is the only active admin key; create another admin key first."),
            RevokeOutcome.BootstrapKey => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The bootstrap admin key cannot be revoked",
                detail: $"Key {id} is the configured bootstrap key (Admin:BootstrapKey) and would be restored at the next start; rotate the admin-key parameter instead."),
            _ => Problems.NotFound($"No key {id}."),
        };
    }

    internal static void Positive<T>(Dictionary<string, string[]> errors, string field, T? value) where T : struct, IComparable<T>
    {
        if (value is { } number && number.CompareTo(default) <= 0)
        {
            errors[field] = ["Must be positive, or null for no limit."];
        }
    }
}
