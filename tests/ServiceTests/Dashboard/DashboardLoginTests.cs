using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AspireLlm.ServiceTests.Api;
using AspireLlm.Tests.Shared;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AspireLlm.ServiceTests.Dashboard;

/// <summary>The dashboard's login: checked and audited by the Api, form tokens enforced, throttled, cookies secure outside Development.</summary>
[Collection(ServiceCollection.Name)]
public sealed class DashboardLoginTests(LocalInfrastructure infrastructure) : IAsyncLifetime
{
    private readonly ApiFactory _api = new(infrastructure);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task A_login_is_checked_by_the_api_and_audited_with_the_operators_address()
    {
        await using var dashboard = new DashboardFactory(_api, "Development");
        using var browser = dashboard.CreateBrowser("192.0.2.41");

        using var wrong = await DashboardFactory.LogInAsync(browser, "not-the-admin-key");
        using var right = await DashboardFactory.LogInAsync(browser, ApiFactory.AdminKey);
        var keysPage = await browser.GetStringAsync("/keys");

        Assert.Equal("/login?failed=1", wrong.Headers.Location!.OriginalString);
        Assert.Equal("/", right.Headers.Location!.OriginalString);
        // The session the right key opened is let in: the keys page, not the login form. (Its rows come from
        // the Fluent data grid after the first render, which a plain GET does not see; KeysPageTests checks
        // them, the bootstrap key's missing revoke button included.)
        Assert.Contains("<h1>Keys and tenants</h1>", keysPage);
        Assert.DoesNotContain("<h1>Log in</h1>", keysPage);
        using var admin = _api.CreateClientWithKey(ApiFactory.AdminKey);
        Assert.Single(await AuditAsync(admin, "login.success", "192.0.2.41"));
        Assert.Single(await AuditAsync(admin, "login.failure", "192.0.2.41"));
    }

    [Fact]
    public async Task Form_posts_without_a_valid_antiforgery_token_are_refused()
    {
        await using var dashboard = new DashboardFactory(_api, "Development");
        using var browser = dashboard.CreateBrowser("192.0.2.42");
        await browser.GetStringAsync("/login"); // the antiforgery cookie alone is not enough

        using var login = await browser.PostAsync("/account/login", new FormUrlEncodedContent([new("key", ApiFactory.AdminKey)]));
        using var forged = await browser.PostAsync("/account/login",
            new FormUrlEncodedContent([new("key", ApiFactory.AdminKey), new("__RequestVerificationToken", "forged")]));
        using var logout = await browser.PostAsync("/account/logout", new FormUrlEncodedContent([]));

        Assert.Equal(HttpStatusCode.BadRequest, login.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, logout.StatusCode);
        Assert.False(login.Headers.Contains("Set-Cookie") && login.Headers.GetValues("Set-Cookie").Any(cookie => cookie.StartsWith("aspirellm-dashboard=")));
        using var admin = _api.CreateClientWithKey(ApiFactory.AdminKey);
        Assert.Empty(await AuditAsync(admin, "login.success", "192.0.2.42")); // never reached the Api
    }

    [Theory]
    [InlineData("Production", "https", true)]
    [InlineData("Development", "http", false)]
    public async Task Cookies_are_secure_outside_development_and_always_http_only_and_same_site(string environment, string scheme, bool secure)
    {
        await using var dashboard = new DashboardFactory(_api, environment);
        using var browser = dashboard.CreateBrowser("192.0.2.43", scheme, handleCookies: false);

        var (pageCookies, login) = await DashboardFactory.LogInByHandAsync(browser, ApiFactory.AdminKey);
        using var _ = login;

        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        var session = login.Headers.GetValues("Set-Cookie").Single(cookie => cookie.StartsWith("aspirellm-dashboard=")).ToLowerInvariant();
        Assert.Contains("httponly", session);
        Assert.Contains("samesite=strict", session);
        Assert.Equal(secure, session.Contains("; secure"));
        var antiforgery = pageCookies.Single(cookie => cookie.StartsWith(".AspNetCore.Antiforgery.")).ToLowerInvariant();
        Assert.Equal(secure, antiforgery.Contains("; secure"));
        // Secure even if a request came in over plain HTTP (a proxy that forgot X-Forwarded-Proto), not only over HTTPS.
        var options = dashboard.Services.GetRequiredService<IOptionsMonitor<CookieAuthenticationOptions>>().Get(CookieAuthenticationDefaults.AuthenticationScheme);
        Assert.Equal(secure ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest, options.Cookie.SecurePolicy);
    }

    [Fact]
    public async Task Login_attempts_are_throttled_per_address_with_retry_after()
    {
        await using var dashboard = new DashboardFactory(_api, "Development")
        {
            Settings = { ["Login:AttemptsPerAddress"] = "2", ["Login:Window"] = "01:00:00" },
        };
        using var noisy = dashboard.CreateBrowser("192.0.2.44");
        using var other = dashboard.CreateBrowser("192.0.2.45");

        using var first = await DashboardFactory.LogInAsync(noisy, "wrong 1");
        using var second = await DashboardFactory.LogInAsync(noisy, "wrong 2");
        using var third = await DashboardFactory.LogInAsync(noisy, ApiFactory.AdminKey);
        using var elsewhere = await DashboardFactory.LogInAsync(other, ApiFactory.AdminKey);

        Assert.Equal(HttpStatusCode.Redirect, first.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, second.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.InRange(third.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));
        Assert.Contains("Too many login attempts", await third.Content.ReadAsStringAsync());
        Assert.Equal("/", elsewhere.Headers.Location!.OriginalString);
    }

    private static async Task<List<JsonElement>> AuditAsync(HttpClient admin, string action, string forwardedFor) =>
        [.. (await admin.GetFromJsonAsync<JsonElement>($"/v1/admin/audit?limit=500&action={action}")).GetProperty("items").EnumerateArray()
            .Where(row => row.GetProperty("forwarded_for").GetString() == forwardedFor)];
}
