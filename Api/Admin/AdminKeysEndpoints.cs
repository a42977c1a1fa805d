using AspireLlm.Api.ApiKeys;
using AspireLlm.Api.Errors;
using AspireLlm.Orchestration.Admission;
using AspireLlm.Orchestration.Embeddings;
using AspireLlm.Orchestration.Routing;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AspireLlm.Api.Admin;

/// <summary>Key and tenant-limit management for admins: create (the plain key is shown once), list, change, revoke.</summary>
public static class AdminKeysEndpoints
{
    public static RouteGroupBuilder MapAdminKeys(this RouteGroupBuilder group)
    {
        group.MapPost("/keys", CreateAsync).WithName("AdminCreateKey");
        group.MapGet("/keys", ListAsync).WithName("AdminListKeys");
        group.MapGet("/keys/{id:guid}", GetAsync).WithName("AdminGetKey");
        group.MapPut("/keys/{id:guid}", UpdateAsync).WithName("AdminUpdateKey");
        group.MapPost("/keys/{id:guid}/revoke", RevokeAsync).WithName("AdminRevokeKey");
        group.MapPut("/tenants/{tenantId}/limits", SetTenantLimitsAsync).WithName("AdminSetTenantLimits");
        return group;
    }

    internal static async Task<Results<Created<CreatedKeyView>, ProblemHttpResult>> CreateAsync(
        CreateKeyRequest request, ApiKeyStore keys, ModelCatalog models, EmbeddingCatalog embeddings, CancellationToken cancellationToken)
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

        var (record, plain) = await keys.CreateAsync(request.TenantId!, request.Name!, request.IsAdmin, request.Limits(), cancellationToken);
        return TypedResults.Created($"/v1/admin/keys/{record.Id}", new CreatedKeyView(plain, KeyView.From(record)));
    }

    internal static async Task<Ok<IReadOnlyList<KeyView>>> ListAsync(ApiKeyStore keys, CancellationToken cancellationToken, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "tenant_id")] string? tenantId = null) =>
        TypedResults.Ok<IReadOnlyList<KeyView>>([.. (await keys.ListAsync(tenantId, cancellationToken)).Select(KeyView.From)]);

    internal static async Task<Results<Ok<KeyView>, ProblemHttpResult>> GetAsync(Guid id, ApiKeyStore keys, CancellationToken cancellationToken) =>
        await keys.GetAsync(id, cancellationToken) is { } record ? TypedResults.Ok(KeyView.From(record)) : Problems.NotFound($"No key {id}.");

    internal static async Task<Results<Ok<KeyView>, ProblemHttpResult>> UpdateAsync(
        Guid id, UpdateKeyRequest request, ApiKeyStore keys, ModelCatalog models, EmbeddingCatalog embeddings, CancellationToken cancellationToken)
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

        return await keys.UpdateAsync(id, request.Name!, request.Limits(), cancellationToken) is { } record
            ? TypedResults.Ok(KeyView.From(record))
            : Problems.NotFound($"No key {id}.");
    }

    internal static async Task<Results<NoContent, ProblemHttpResult>> RevokeAsync(Guid id, ApiKeyStore keys, CancellationToken cancellationToken) =>
        await keys.RevokeAsync(id, cancellationToken) ? TypedResults.NoContent() : Problems.NotFound($"No key {id}.");

    internal static async Task<Results<NoContent, ProblemHttpResult>> SetTenantLimitsAsync(
        string tenantId, TenantLimitsRequest request, ApiKeyStore keys, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        Positive(errors, "requests_per_minute", request.RequestsPerMinute);
        Positive(errors, "tokens_per_minute", request.TokensPerMinute);
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        await keys.SetTenantLimitsAsync(tenantId, new TenantLimits(request.RequestsPerMinute, request.TokensPerMinute), cancellationToken);
        return TypedResults.NoContent();
    }

    internal static void Positive<T>(Dictionary<string, string[]> errors, string field, T? value) where T : struct, IComparable<T>
    {
        if (value is { } number && number.CompareTo(default) <= 0)
        {
            errors[field] = ["Must be positive, or null for no limit."];
        }
    }
}
