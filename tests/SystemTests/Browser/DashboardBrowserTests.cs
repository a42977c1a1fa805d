using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Aspire.Hosting.Testing;
using AspireLlm.ServiceDefaults;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace AspireLlm.SystemTests.Browser;

/// <summary>
/// The dashboard in a real browser against the whole application (two Api and two Worker replicas):
/// the test makes traffic, jobs and keys through the Api, then logs in and checks every page shows
/// them, that the charts' figures are the Api's, and what an operator does there (create and revoke a
/// key, cancel and retry a job). Saves each page's screenshot for the README.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class DashboardBrowserTests(AppFixture fixture) : IAsyncLifetime
{
    private static readonly string[] Pages = ["/", "/usage", "/providers", "/queues", "/jobs", "/keys", "/audit"];
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async Task InitializeAsync() => (_playwright, _browser) = await Browser.LaunchAsync();

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }

    private string DashboardUrl => fixture.App.GetEndpoint(ResourceNames.Dashboard, "http").ToString().TrimEnd('/');

    [Fact]
    public async Task An_operator_sees_real_traffic_on_every_page_and_acts_on_keys_and_jobs()
    {
        using var admin = fixture.CreateApiClient();
        var tenant = "browser-" + Guid.NewGuid().ToString("N")[..6];
        var (keyId, key) = await CreateKeyAsync(admin, tenant, dailyCostBudget: 1m);
        using var caller = fixture.CreateApiClient(key);
        for (var i = 0; i < 3; i++)
        {
            // The same deterministic request three times: one miss, then hits from the exact cache.
            using var completion = await caller.PostAsync("/v1/chat/completions", Json(
                """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"dashboard traffic"}],"temperature":0}"""));
            Assert.True(completion.IsSuccessStatusCode, await completion.Content.ReadAsStringAsync());
        }

        var finished = await SubmitJobAsync(caller, """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"a job for the dashboard"}]}""");
        await WaitForJobAsync(caller, finished, "completed");
        // Every process adds its sums to Postgres each second: wait until the ledger has the key's four
        // requests and the metric rollup at least as many, rather than for a fixed time.
        await EventuallyAsync(async () =>
            (await admin.GetFromJsonAsync<JsonElement>($"/v1/admin/usage?key_id={keyId}")).GetProperty("total").GetProperty("requests").GetInt64() == 4
            && (await admin.GetFromJsonAsync<JsonElement>("/v1/admin/overview?range=hour")).GetProperty("totals").GetProperty("requests").GetInt64() >= 4,
            "the key's usage in the ledger and the overview's rollup");

        var context = await _browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        var page = await context.NewPageAsync();

        // The login comes back to the page asked for.
        await page.GotoAsync(DashboardUrl + "/usage");
        Assert.Contains("/login?returnUrl=%2Fusage", page.Url);
        await page.FillAsync("input[name=key]", fixture.AdminKey);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(DashboardUrl + "/usage");

        // Overview: the charts' totals are the Api's figures.
        await page.GotoAsync(DashboardUrl + "/");
        var overview = await admin.GetFromJsonAsync<JsonElement>("/v1/admin/overview?range=hour");
        var totals = overview.GetProperty("totals");
        Assert.True(totals.GetProperty("requests").GetInt64() >= 4);
        await Expect(page.Locator("figure[data-chart=requests]")).ToHaveAttributeAsync("data-total", totals.GetProperty("requests").GetInt64().ToString("N0", CultureInfo.InvariantCulture));
        await Expect(page.Locator("figure[data-chart=tokens]")).ToHaveAttributeAsync("data-total", totals.GetProperty("tokens").GetDouble().ToString("N0", CultureInfo.InvariantCulture));
        await Expect(page.Locator("figure[data-chart=cost]")).ToHaveAttributeAsync("data-total", totals.GetProperty("cost").GetDouble().ToString("N6", CultureInfo.InvariantCulture));
        await Expect(page.Locator("[data-kpi=cache-exact]")).ToContainTextAsync("hits");
        await page.ScreenshotAsync(new() { Path = Browser.ScreenshotPath("overview"), FullPage = true });

        // Usage of the test's key: the ledger has its gateway calls and its job, with its budget line.
        await page.GotoAsync(DashboardUrl + "/usage");
        await Browser.WaitInteractiveAsync(page);
        await page.FillAsync("[data-filter=key]", keyId.ToString());
        await page.ClickAsync("form.filters fluent-button[type=submit]");
        var usage = await admin.GetFromJsonAsync<JsonElement>($"/v1/admin/usage?key_id={keyId}");
        Assert.Equal(4, usage.GetProperty("total").GetProperty("requests").GetInt64()); // 3 calls (2 of them cache hits) and a job
        await Expect(page.Locator("[data-usage=requests]")).ToHaveTextAsync("4");
        await Expect(page.Locator("figure[data-chart=usage-cost] line.limit")).ToHaveAttributeAsync("data-limit", "1.000000");
        await page.ScreenshotAsync(new() { Path = Browser.ScreenshotPath("usage"), FullPage = true });

        // Providers and queues show the deployment that answered and the Workers' heartbeats.
        await page.GotoAsync(DashboardUrl + "/providers");
        await Expect(page.Locator("[data-grid=providers] [data-attempts]").First).ToBeVisibleAsync();
        Assert.True(await page.Locator("[data-grid=providers] [data-deployment]").CountAsync() >= 1);
        await page.ScreenshotAsync(new() { Path = Browser.ScreenshotPath("providers"), FullPage = true });
        await page.GotoAsync(DashboardUrl + "/queues");
        await Expect(page.Locator("[data-grid=queues] [data-queue='chat.completion']")).ToBeVisibleAsync();
        // 2 Workers × 2 queues; waited for, as the live page fills its grid after the first render (a bare
        // count right after navigation failed on a busy machine).
        await Expect(page.Locator("[data-grid=workers] [data-worker]").Nth(3)).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await page.ScreenshotAsync(new() { Path = Browser.ScreenshotPath("queues"), FullPage = true });

        // Jobs: filtered by the tenant; then cancel a batch and retry it from its page. The batch's key allows
        // two requests a minute, so the batch is still under way (deferred to the next minute) whenever the
        // browser gets to it: a batch with no limit can finish in seconds, before the cancel button is clicked.
        var (_, slowKey) = await CreateKeyAsync(admin, tenant, dailyCostBudget: 1m, requestsPerMinute: 2);
        using var slowCaller = fixture.CreateApiClient(slowKey);
        var batch = await SubmitBatchAsync(slowCaller, 1000);
        await page.GotoAsync(DashboardUrl + "/jobs");
        await Browser.WaitInteractiveAsync(page);
        await page.FillAsync("[data-filter=tenant]", tenant);
        await page.ClickAsync("form.filters fluent-button[type=submit]");
        await Expect(page.Locator($"a[data-job='{finished}']")).ToBeVisibleAsync();
        await page.ScreenshotAsync(new() { Path = Browser.ScreenshotPath("jobs"), FullPage = true });

        await page.GotoAsync($"{DashboardUrl}/jobs/{batch}");
        await Browser.WaitInteractiveAsync(page);
        await Expect(page.Locator("fluent-button[data-action=cancel]:not([disabled])")).ToBeVisibleAsync();
        await page.ClickAsync("fluent-button[data-action=cancel]");
        await Expect(page.Locator(".facts [data-status]")).ToHaveAttributeAsync("data-status", "cancelled", new() { Timeout = 20_000 });
        await page.ClickAsync("fluent-button[data-action=retry]");
        await Expect(page.Locator(".toast", new() { HasText = "Retry queued" })).ToBeVisibleAsync();
        await Expect(page.Locator("dd[data-run]")).ToHaveAttributeAsync("data-run", "2");
        await page.ScreenshotAsync(new() { Path = Browser.ScreenshotPath("job-detail"), FullPage = true });
        using (await admin.PostAsync($"/v1/admin/jobs/{batch}/cancel", null))
        {
        }

        // Keys: create one (shown once), then revoke it after confirming.
        await page.GotoAsync(DashboardUrl + "/keys");
        await Browser.WaitInteractiveAsync(page);
        await page.ClickAsync("fluent-button.create-key");
        await page.FillAsync("[data-field=tenant]", tenant);
        await page.FillAsync("[data-field=name]", "made in the browser");
        await page.ClickAsync("fluent-dialog fluent-button.confirm-create");
        var created = await page.Locator("[data-new-key]").TextContentAsync();
        Assert.StartsWith("sk-llm-", created);
        await page.ClickAsync("fluent-dialog fluent-button.done");
        await page.FillAsync("[data-filter=keys]", "made in the browser");
        await page.Locator("[data-grid=keys] tr", new() { HasText = "made in the browser" }).Locator("fluent-button.revoke").ClickAsync();
        await page.ClickAsync("fluent-dialog fluent-button.confirm-revoke");
        await Expect(page.Locator(".toast", new() { HasText = "revoked" })).ToBeVisibleAsync();
        using (var refused = await fixture.CreateApiClient(created).GetAsync("/v1/models"))
        {
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        await page.ScreenshotAsync(new() { Path = Browser.ScreenshotPath("keys"), FullPage = true });
        await page.GotoAsync(DashboardUrl + "/audit");
        await Expect(page.Locator("[data-grid=audit]")).ToContainTextAsync("key.revoke");
        await page.ScreenshotAsync(new() { Path = Browser.ScreenshotPath("audit"), FullPage = true });

        // An unknown address is the dashboard's own 404 page.
        var missing = await page.GotoAsync(DashboardUrl + "/no-such-page");
        Assert.Equal(404, missing!.Status);
        await Expect(page.Locator("h1")).ToHaveTextAsync("Page not found");

        // At 390 px no page scrolls sideways.
        var phone = await _browser.NewContextAsync(new() { ViewportSize = new() { Width = 390, Height = 844 } });
        await phone.AddCookiesAsync((await context.CookiesAsync()).Select(c => new Cookie
        {
            Name = c.Name, Value = c.Value, Domain = c.Domain, Path = c.Path, HttpOnly = c.HttpOnly, Secure = c.Secure, SameSite = c.SameSite,
        }));
        var small = await phone.NewPageAsync();
        foreach (var path in Pages)
        {
            await small.GotoAsync(DashboardUrl + path);
            var overflow = await small.EvaluateAsync<int>("() => document.documentElement.scrollWidth - window.innerWidth");
            Assert.True(overflow <= 0, $"{path} scrolls sideways by {overflow} px at 390 px");
        }

        await small.GotoAsync(DashboardUrl + "/");
        await small.ScreenshotAsync(new() { Path = Browser.ScreenshotPath("overview-phone"), FullPage = true });
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static async Task<(Guid Id, string Key)> CreateKeyAsync(HttpClient admin, string tenant, decimal dailyCostBudget, int? requestsPerMinute = null)
    {
        var request = new Dictionary<string, object> { ["tenant_id"] = tenant, ["name"] = "browser test", ["daily_cost_budget"] = dailyCostBudget };
        if (requestsPerMinute is { } limit)
        {
            request["requests_per_minute"] = limit;
        }

        using var created = await admin.PostAsJsonAsync("/v1/admin/keys", request);
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        return (body.GetProperty("details").GetProperty("id").GetGuid(), body.GetProperty("key").GetString()!);
    }

    private static async Task<Guid> SubmitJobAsync(HttpClient caller, string input)
    {
        using var accepted = await caller.PostAsync("/v1/jobs", Json($$"""{"kind":"chat.completion","input":{{input}}}"""));
        return (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    private static async Task<Guid> SubmitBatchAsync(HttpClient caller, int items)
    {
        var requests = string.Join(",", Enumerable.Range(0, items).Select(i =>
            $$"""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"item {{i}}"}]}"""));
        using var accepted = await caller.PostAsync("/v1/jobs", Json("{\"kind\":\"batch\",\"input\":{\"requests\":[" + requests + "],\"max_concurrency\":1}}"));
        Assert.True(accepted.IsSuccessStatusCode, await accepted.Content.ReadAsStringAsync());
        return (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Not there after 30 s: {what}.");
            await Task.Delay(200);
        }
    }

    private static async Task WaitForJobAsync(HttpClient caller, Guid id, string status)
    {
        for (var i = 0; i < 100; i++)
        {
            var job = await caller.GetFromJsonAsync<JsonElement>($"/v1/jobs/{id}");
            if (job.GetProperty("status").GetString() == status)
            {
                return;
            }

            await Task.Delay(200);
        }

        Assert.Fail($"Job {id} did not become {status}.");
    }
}
