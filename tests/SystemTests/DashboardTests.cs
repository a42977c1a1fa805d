using Aspire.Hosting.Testing;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace AspireLlm.SystemTests;

/// <summary>The admin page is behind a login and shows jobs it read through the Api.</summary>
[Collection(AppCollection.Name)]
public sealed class DashboardTests(AppFixture fixture)
{
    [Fact]
    public async Task Jobs_page_needs_login_and_then_lists_recent_jobs()
    {
        using var api = fixture.CreateApiClient();
        using var accepted = await api.PostAsync("/v1/jobs", new StringContent(
            """{"kind":"chat.completion","input":{"model":"claude-sonnet","messages":[{"role":"user","content":"for the dashboard"}]}}""",
            Encoding.UTF8, "application/json"));
        var location = accepted.Headers.Location!.OriginalString;
        var jobId = location[(location.LastIndexOf('/') + 1)..];

        var cookies = new CookieContainer();
        using var handler = new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false };
        using var dashboard = new HttpClient(handler) { BaseAddress = fixture.App.GetEndpoint("dashboard", "http") };

        using var anonymous = await dashboard.GetAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, anonymous.StatusCode);
        Assert.StartsWith("/login?returnUrl=", anonymous.Headers.Location!.PathAndQuery);

        using var tokenless = await dashboard.PostAsync("/account/login", new FormUrlEncodedContent([new("key", fixture.AdminKey)]));
        Assert.Equal(HttpStatusCode.BadRequest, tokenless.StatusCode);

        using var wrong = await LogInAsync(dashboard, "not-the-key");
        Assert.Contains("failed", wrong.Headers.Location!.OriginalString);

        using var login = await LogInAsync(dashboard, fixture.AdminKey);
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);

        var page = await dashboard.GetStringAsync("/jobs");
        Assert.Contains("Jobs", page);
        Assert.Contains(jobId, page);

        var detail = await dashboard.GetStringAsync($"/jobs/{jobId}");
        Assert.Contains("Step log", detail);
        Assert.Contains("accepted", detail);

        // Prerendered server-side, so the first response already holds what the Api returned.
        var circuits = await dashboard.GetStringAsync("/providers");
        Assert.Contains("sim-gpt-4o-mini", circuits);
        Assert.Contains("closed", circuits);

        var keys = await dashboard.GetStringAsync("/keys");
        Assert.Contains("bootstrap admin", keys);

        // The Api checked both attempts and audited them.
        var audit = await api.GetFromJsonAsync<JsonElement>("/v1/admin/audit?action=login.success");
        Assert.NotEmpty(audit.GetProperty("items").EnumerateArray());
    }

    /// <summary>Posts the login form as a browser does: with the antiforgery token from the login page.</summary>
    private static async Task<HttpResponseMessage> LogInAsync(HttpClient dashboard, string key)
    {
        var page = await dashboard.GetStringAsync("/login");
        var token = Regex.Match(page, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value;
        return await dashboard.PostAsync("/account/login", new FormUrlEncodedContent([new("key", key), new("__RequestVerificationToken", token)]));
    }
}
