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
        routes.MapAdminLogin(); // anonymous, so outside the group
        return routes;
    }

    internal static async Task<Results<Ok<IReadOnlyList<AdminJobView>>, ProblemHttpResult>> ListJobsAsync(
        JobStore store, CancellationToken cancellationToken, int limit = 50)
    {
        if (limit is < 1 or > 500)
        {
            return Errors.Problems.Validation(new() { ["limit"] = ["The limit must be between 1 and 500."] });
        }

        var jobs = await store.ListRecentAsync(limit, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<AdminJobView>>([.. jobs.Select(AdminJobView.From)]);
    }
}
