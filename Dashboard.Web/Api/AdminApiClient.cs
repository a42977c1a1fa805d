using System.Net.Http.Headers;
using System.Text.Json;

namespace AspireLlm.Dashboard.Web.Api;

/// <summary>A job as the Api's admin endpoint lists it.</summary>
public sealed record AdminJob(
    Guid Id, string TenantId, string Kind, string Status, int Progress, string? CurrentStep, int Attempts,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>
/// Reads the Api's admin endpoints with the admin key. The dashboard never touches the database: the
/// Api is the one place that enforces who may see what.
/// </summary>
public sealed class AdminApiClient(HttpClient http)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    public async Task<IReadOnlyList<AdminJob>> GetRecentJobsAsync(int limit, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync($"/v1/admin/jobs?limit={limit}", cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"The Api answered {(int)response.StatusCode} for the job list.", null, response.StatusCode);
        }

        return await response.Content.ReadFromJsonAsync<List<AdminJob>>(Json, cancellationToken) ?? [];
    }
}

internal static class AdminApiClientExtensions
{
    public static IHostApplicationBuilder AddAdminApiClient(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<DashboardOptions>()
            .Bind(builder.Configuration.GetSection(DashboardOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddHttpClient<AdminApiClient>((services, http) =>
            {
                var options = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<DashboardOptions>>().Value;
                http.BaseAddress = new Uri(options.ApiBaseAddress);
                http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.ApiKey);
            })
            .AddServiceResilience();
        return builder;
    }
}
