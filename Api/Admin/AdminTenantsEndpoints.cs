using AspireLlm.Api.ApiKeys;
using AspireLlm.Api.Audit;
using AspireLlm.Api.Errors;
using AspireLlm.Orchestration.Admission;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AspireLlm.Api.Admin;

/// <summary>Tenant-wide rate limits, and the defaults a tenant's new keys get; each change is audited.</summary>
public static class AdminTenantsEndpoints
{
    private const int MaxTenantIdLength = 100;

    public static RouteGroupBuilder MapAdminTenants(this RouteGroupBuilder group)
    {
        group.MapPut("/tenants/{tenantId}/limits", SetTenantLimitsAsync).WithName("AdminSetTenantLimits");
        group.MapGet("/tenants/{tenantId}/key-defaults", GetKeyDefaultsAsync).WithName("AdminGetKeyDefaults");
        group.MapPut("/tenants/{tenantId}/key-defaults", SetKeyDefaultsAsync).WithName("AdminSetKeyDefaults");
        group.MapDelete("/tenants/{tenantId}/key-defaults", ClearKeyDefaultsAsync).WithName("AdminClearKeyDefaults");
        return group;
    }

    internal static async Task<Results<NoContent, ProblemHttpResult>> SetTenantLimitsAsync(
        string tenantId, TenantLimitsRequest request, HttpContext context, ApiKeyStore keys, CancellationToken cancellationToken)
    {
        var errors = TenantErrors(tenantId);
        AdminKeysEndpoints.Positive(errors, "requests_per_minute", request.RequestsPerMinute);
        AdminKeysEndpoints.Positive(errors, "tokens_per_minute", request.TokensPerMinute);
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        await keys.SetTenantLimitsAsync(tenantId, new TenantLimits(request.RequestsPerMinute, request.TokensPerMinute), AuditActor.From(context), cancellationToken);
        return TypedResults.NoContent();
    }

    internal static async Task<Results<Ok<KeyDefaultsView>, ProblemHttpResult>> GetKeyDefaultsAsync(
        string tenantId, ApiKeyStore keys, CancellationToken cancellationToken)
    {
        if (TenantErrors(tenantId) is { Count: > 0 } errors)
        {
            return Problems.Validation(errors);
        }

        var defaults = await keys.GetKeyDefaultsAsync(tenantId, cancellationToken);
        return TypedResults.Ok(new KeyDefaultsView(tenantId, defaults.Source, defaults.Limits));
    }

    /// <summary>Sets the tenant's own defaults; they replace the global ones as a whole (a null field is no limit of that kind).</summary>
    internal static async Task<Results<Ok<KeyDefaultsView>, ProblemHttpResult>> SetKeyDefaultsAsync(
        string tenantId, KeyDefaultsRequest request, HttpContext context, ApiKeyStore keys, CancellationToken cancellationToken)
    {
        var errors = TenantErrors(tenantId);
        var limits = request.Limits();
        AdminKeysEndpoints.Positive(errors, "requests_per_minute", limits.RequestsPerMinute);
        AdminKeysEndpoints.Positive(errors, "tokens_per_minute", limits.TokensPerMinute);
        AdminKeysEndpoints.Positive(errors, "daily_token_budget", limits.DailyTokenBudget);
        AdminKeysEndpoints.Positive(errors, "monthly_token_budget", limits.MonthlyTokenBudget);
        AdminKeysEndpoints.Positive(errors, "daily_cost_budget", limits.DailyCostBudget);
        AdminKeysEndpoints.Positive(errors, "monthly_cost_budget", limits.MonthlyCostBudget);
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        await keys.SetKeyDefaultsAsync(tenantId, limits, AuditActor.From(context), cancellationToken);
        return TypedResults.Ok(new KeyDefaultsView(tenantId, KeyDefaults.TenantSource, limits));
    }

    /// <summary>Removes the tenant's own defaults: its new keys get the global ones again.</summary>
    internal static async Task<Results<NoContent, ProblemHttpResult>> ClearKeyDefaultsAsync(
        string tenantId, HttpContext context, ApiKeyStore keys, CancellationToken cancellationToken)
    {
        if (TenantErrors(tenantId) is { Count: > 0 } errors)
        {
            return Problems.Validation(errors);
        }

        await keys.SetKeyDefaultsAsync(tenantId, null, AuditActor.From(context), cancellationToken);
        return TypedResults.NoContent();
    }

    private static Dictionary<string, string[]> TenantErrors(string tenantId) =>
        string.IsNullOrWhiteSpace(tenantId) || tenantId.Length > MaxTenantIdLength
            ? new() { ["tenant_id"] = [$"The tenant id is required (at most {MaxTenantIdLength} characters)."] }
            : [];
}
