using System.Net.Http.Headers;
using System.Text.Json;

namespace AspireLlm.Dashboard.Web.Api;

/// <summary>A job as the Api's admin endpoint lists it.</summary>
public sealed record AdminJob(
    Guid Id, string TenantId, string Kind, string Status, int Progress, string? CurrentStep, int Attempts,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, int Run = 1, DateTimeOffset? CompletedAt = null);

/// <summary>One job with its step log, as the Api's admin endpoint shows it.</summary>
public sealed record AdminJobDetail(
    Guid Id, string TenantId, string Kind, string Status, int Progress, string? CurrentStep, JsonElement Steps,
    JsonElement? Error, JsonElement? Usage, int Attempts, int Run, string? Worker, bool CancelRequested,
    DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? CompletedAt, DateTimeOffset UpdatedAt);

/// <summary>A deployment's circuit, as the Api's admin endpoint shows it.</summary>
public sealed record AdminCircuit(string Alias, string Deployment, string Provider, string Model, string State, double RetryAfterSeconds, double? LatencyMs);

/// <summary>A key as the Api's admin endpoint lists it (never the key itself).</summary>
public sealed record AdminKey(Guid Id, string TenantId, string Name, string Prefix, bool IsAdmin, bool Revoked, JsonElement Limits, bool IsBootstrap = false);

/// <summary>
/// Reads the Api's admin endpoints with the admin key. The dashboard never touches the database: the
/// Api is the one place that enforces who may see what.
/// </summary>
public sealed partial class AdminApiClient(HttpClient http)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    public Task<IReadOnlyList<AdminJob>> GetRecentJobsAsync(int limit, CancellationToken cancellationToken) =>
        GetListAsync<AdminJob>($"/v1/admin/jobs?limit={limit}", "job list", cancellationToken);

    public Task<IReadOnlyList<AdminCircuit>> GetCircuitsAsync(CancellationToken cancellationToken) =>
        GetListAsync<AdminCircuit>("/v1/admin/circuits", "circuit states", cancellationToken);

    public Task<IReadOnlyList<AdminKey>> GetKeysAsync(CancellationToken cancellationToken) =>
        GetListAsync<AdminKey>("/v1/admin/keys", "key list", cancellationToken);

    /// <summary>Revokes a key on every Api replica; returns what the Api said (why, when it refused).</summary>
    public async Task<string> RevokeKeyAsync(Guid id, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsync($"/v1/admin/keys/{id}/revoke", null, cancellationToken);
        return response.IsSuccessStatusCode ? "revoked" : $"revoke refused ({(int)response.StatusCode}): {await DetailOfAsync(response, cancellationToken)}";
    }

    private async Task<IReadOnlyList<T>> GetListAsync<T>(string path, string what, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(path, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"The Api answered {(int)response.StatusCode} for the {what}.", null, response.StatusCode);
        }

        return await response.Content.ReadFromJsonAsync<List<T>>(Json, cancellationToken) ?? [];
    }

    /// <summary>The job, or null when the Api does not know it.</summary>
    public async Task<AdminJobDetail?> GetJobAsync(Guid id, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync($"/v1/admin/jobs/{id}", cancellationToken);
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"The Api answered {(int)response.StatusCode} for job {id}.", null, response.StatusCode);
        }

        return await response.Content.ReadFromJsonAsync<AdminJobDetail>(Json, cancellationToken);
    }

    /// <summary>Asks the Api to cancel or retry the job; returns what the Api said, for the operator to read.</summary>
    public async Task<string> ActAsync(Guid id, string action, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsync($"/v1/admin/jobs/{id}/{action}", null, cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            return (action, response.StatusCode) switch
            {
                ("retry", _) => "Retry queued: the job runs again as a new run.",
                ("cancel", System.Net.HttpStatusCode.Accepted) => "Cancel requested: the worker running the job stops it.",
                ("cancel", _) => "Cancelled: the job will not start.",
                _ => $"{action}: done",
            };
        }

        return $"{action} refused ({(int)response.StatusCode}): {await DetailOfAsync(response, cancellationToken)}";
    }

    /// <summary>The ProblemDetails' detail of a refusal, or the status's reason when there is none.</summary>
    private static async Task<string?> DetailOfAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentType?.MediaType is not ("application/problem+json" or "application/json"))
        {
            return response.ReasonPhrase;
        }

        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        return problem.TryGetProperty("detail", out var detail) ? detail.GetString() : response.ReasonPhrase;
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
            // No retries here: a live page retries on its own schedule (with backoff, showing the outage),
            // and a first render during an outage must answer at once instead of after 30 s of retries.
            .ConfigureHttpClient(http => http.Timeout = TimeSpan.FromSeconds(5));
        return builder;
    }
}
