using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace AspireLlm.Dashboard.Web.Api;

public sealed partial class AdminApiClient
{
    public Task<OverviewReport> GetOverviewAsync(string range, CancellationToken cancellationToken) =>
        GetAsync<OverviewReport>($"/v1/admin/overview?range={range}", "overview", cancellationToken);

    public Task<ProvidersReport> GetProvidersAsync(string range, CancellationToken cancellationToken) =>
        GetAsync<ProvidersReport>($"/v1/admin/providers?range={range}", "provider figures", cancellationToken);

    public async Task<QueuesReport> GetQueuesAsync(string range, CancellationToken cancellationToken)
    {
        var raw = await GetAsync<JsonElement>($"/v1/admin/queues?range={range}", "queue figures", cancellationToken);
        return new QueuesReport(range, raw.GetProperty("from").GetDateTimeOffset(), raw.GetProperty("to").GetDateTimeOffset(),
            raw.GetProperty("queues").Deserialize<List<QueueFigures>>(Json)!, raw.GetProperty("workers").Deserialize<List<WorkerFigures>>(Json)!);
    }

    public Task<UsageReport> GetUsageAsync(UsageFilter filter, CancellationToken cancellationToken) =>
        GetAsync<UsageReport>("/v1/admin/usage" + UsageQuery(filter) + $"&limit={filter.Limit}", "usage", cancellationToken);

    /// <summary>The same usage as CSV (the dashboard hands it to the browser as a download).</summary>
    public async Task<byte[]> GetUsageCsvAsync(UsageFilter filter, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync("/v1/admin/usage/csv" + UsageQuery(filter), cancellationToken);
        Ensure(response, "usage export");
        return await response.Content.ReadAsByteArrayAsync(cancellationToken);
    }

    public Task<List<KeyUsage>> GetKeyUsageAsync(CancellationToken cancellationToken) =>
        GetAsync<List<KeyUsage>>("/v1/admin/usage/keys", "key usage", cancellationToken);

    public Task<AuditPage> GetAuditAsync(long? before, string? action, string? actor, CancellationToken cancellationToken) =>
        GetAsync<AuditPage>($"/v1/admin/audit?limit=50{Param("before", before?.ToString(CultureInfo.InvariantCulture))}{Param("action", action)}{Param("actor", actor)}",
            "audit log", cancellationToken);

    /// <summary>A page of jobs and how many match (10 001 means more than 10 000).</summary>
    public async Task<(List<AdminJob> Items, int Total)> GetJobsAsync(JobFilter filter, int offset, int limit, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(
            $"/v1/admin/jobs?limit={limit}&offset={offset}{Param("tenant_id", filter.TenantId)}{Param("kind", filter.Kind)}{Param("status", filter.Status)}"
            + Param("from", filter.From?.ToString("O")) + Param("to", filter.To?.ToString("O")), cancellationToken);
        Ensure(response, "job list");
        var total = response.Headers.TryGetValues("X-Total-Count", out var values) && int.TryParse(values.First(), out var count) ? count : 0;
        return ((await response.Content.ReadFromJsonAsync<List<AdminJob>>(Json, cancellationToken))!, total);
    }

    public Task<List<string>> GetModelAliasesAsync(CancellationToken cancellationToken) =>
        GetAsync<JsonElement>("/v1/models", "models", cancellationToken)
            .ContinueWith(task => task.Result.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()!).ToList(), cancellationToken,
                TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);

    /// <summary>Creates a key; returns the plain key (shown once) or the Api's reason for refusing.</summary>
    public async Task<(string? Key, string? Error)> CreateKeyAsync(KeyLimitsForm form, CancellationToken cancellationToken)
    {
        // A limit left empty is left out, so the tenant's default applies (an explicit null would mean none).
        var body = Limits(form).Where(pair => pair.Value is not null).ToDictionary();
        body["tenant_id"] = form.TenantId;
        body["name"] = form.Name;
        body["is_admin"] = form.IsAdmin;
        using var response = await http.PostAsJsonAsync("/v1/admin/keys", body, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            return (null, await RefusalAsync(response, cancellationToken));
        }

        return ((await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("key").GetString(), null);
    }

    /// <summary>Renames a key and sets every limit in <paramref name="form"/>; null when done, else why not.</summary>
    public async Task<string?> UpdateKeyAsync(Guid id, KeyLimitsForm form, CancellationToken cancellationToken)
    {
        var body = Limits(form);
        body["name"] = form.Name;
        using var response = await http.PutAsJsonAsync($"/v1/admin/keys/{id}", body, cancellationToken);
        return response.IsSuccessStatusCode ? null : await RefusalAsync(response, cancellationToken);
    }

    public async Task<string?> SetTenantLimitsAsync(string tenantId, int? requestsPerMinute, int? tokensPerMinute, CancellationToken cancellationToken)
    {
        using var response = await http.PutAsJsonAsync($"/v1/admin/tenants/{Uri.EscapeDataString(tenantId)}/limits",
            new Dictionary<string, object?> { ["requests_per_minute"] = requestsPerMinute, ["tokens_per_minute"] = tokensPerMinute }, cancellationToken);
        return response.IsSuccessStatusCode ? null : await RefusalAsync(response, cancellationToken);
    }

    private static Dictionary<string, object?> Limits(KeyLimitsForm form) => new()
    {
        ["allowed_models"] = string.IsNullOrWhiteSpace(form.AllowedModels) ? null
            : form.AllowedModels.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
        ["allowed_tools"] = string.IsNullOrWhiteSpace(form.AllowedTools) ? null
            : form.AllowedTools.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
        ["requests_per_minute"] = form.RequestsPerMinute,
        ["tokens_per_minute"] = form.TokensPerMinute,
        ["daily_token_budget"] = form.DailyTokenBudget,
        ["monthly_token_budget"] = form.MonthlyTokenBudget,
        ["daily_cost_budget"] = form.DailyCostBudget,
        ["monthly_cost_budget"] = form.MonthlyCostBudget,
    };

    private async Task<T> GetAsync<T>(string path, string what, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(path, cancellationToken);
        Ensure(response, what);
        return (await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken))!;
    }

    private static void Ensure(HttpResponseMessage response, string what)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"The Api answered {(int)response.StatusCode} for the {what}.", null, response.StatusCode);
        }
    }

    private static async Task<string> RefusalAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.StatusCode == HttpStatusCode.BadRequest && response.Content.Headers.ContentType?.MediaType == "application/problem+json")
        {
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
            if (problem.TryGetProperty("errors", out var errors))
            {
                return string.Join(" ", errors.EnumerateObject().Select(e => $"{e.Name}: {string.Join(" ", e.Value.EnumerateArray().Select(m => m.GetString()))}"));
            }
        }

        return $"{(int)response.StatusCode}: {await DetailOfAsync(response, cancellationToken)}";
    }

    private static string UsageQuery(UsageFilter filter) =>
        $"?group_by={filter.GroupBy}{Param("from", filter.From?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))}"
        + Param("to", filter.To?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)) + Param("tenant_id", filter.TenantId)
        + Param("key_id", filter.KeyId?.ToString()) + Param("model_alias", filter.ModelAlias) + Param("deployment", filter.Deployment);

    private static string Param(string name, string? value) =>
        string.IsNullOrWhiteSpace(value) ? "" : $"&{name}={Uri.EscapeDataString(value.Trim())}";
}
