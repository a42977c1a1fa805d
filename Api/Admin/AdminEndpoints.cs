using AspireLlm.Api.ApiKeys;
using AspireLlm.Api.Audit;
using AspireLlm.Api.Jobs;
using AspireLlm.Orchestration.Jobs;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AspireLlm.Api.Admin;

/// <summary>Endpoints the dashboard reads through; admin keys only (but for the login check).</summary>
public static class AdminEndpoints
{
    public static IEndpointRouteBuilder MapAdminEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/admin").WithTags("Admin").RequireAuthorization(ApiKeysExtensions.AdminPolicy);
        group.MapGet("/jobs", ListJobsAsync).WithName("AdminListJobs");
        group.MapGet("/jobs/{id}", AdminJobsEndpoints.GetAsync).WithName("AdminGetJob");
        group.MapPost("/jobs/{id}/cancel", AdminJobsEndpoints.CancelAsync).WithName("AdminCancelJob");
        group.MapPost("/jobs/{id}/retry", AdminJobsEndpoints.RetryAsync).WithName("AdminRetryJob");
        group.MapAdminKeys();
        group.MapAdminTenants();
        group.MapAdminCircuits();
        group.MapAdminAudit();
        group.MapAdminMetrics();
        group.MapAdminUsage();
        routes.MapAdminLogin(); // anonymous, so outside the group
        return routes;
    }

    /// <summary>
    /// Any tenant's jobs, newest first, optionally of one tenant, kind or status and created in
    /// [<paramref name="from"/>, <paramref name="to"/>). <c>X-Total-Count</c> says how many match, up to
    /// 10 000 (<c>10001</c> means more).
    /// </summary>
    internal static async Task<Results<Ok<IReadOnlyList<AdminJobView>>, ProblemHttpResult>> ListJobsAsync(
        HttpContext context, JobStore store, CancellationToken cancellationToken, int limit = 50, int offset = 0,
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "tenant_id")] string? tenantId = null, string? kind = null, string? status = null,
        DateTimeOffset? from = null, DateTimeOffset? to = null)
    {
        var errors = new Dictionary<string, string[]>();
        if (limit is < 1 or > 500)
        {
            errors["limit"] = ["The limit must be between 1 and 500."];
        }

        if (offset is < 0 or > JobStore.CountCap)
        {
            errors["offset"] = [$"The offset must be between 0 and {JobStore.CountCap}."];
        }

        if (status is not null && !JobStatus.All.Contains(status))
        {
            errors["status"] = [$"One of {string.Join(", ", JobStatus.All)}."];
        }

        if (errors.Count > 0)
        {
            return Errors.Problems.Validation(errors);
        }

        var (jobs, total) = await store.ListAsync(
            new JobFilter(Blank(tenantId), Blank(kind), Blank(status), from, to, limit, offset), cancellationToken);
        context.Response.Headers["X-Total-Count"] = total.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Ok<IReadOnlyList<AdminJobView>>([.. jobs.Select(AdminJobView.From)]);
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
