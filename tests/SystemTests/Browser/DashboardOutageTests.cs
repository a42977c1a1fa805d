using System.Diagnostics;
using Aspire.Hosting.Testing;
using AspireLlm.ServiceDefaults;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace AspireLlm.SystemTests.Browser;

/// <summary>
/// The dashboard while the Api is down and after it is back, in a real browser: a dashboard process of
/// its own reaches the application's Api through a relay the test switches off (nothing listens: the
/// Api is down) and on again at the same address.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class DashboardOutageTests(AppFixture fixture) : IAsyncLifetime
{
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;
    private SwitchableProxy _api = null!;
    private Process? _dashboard;
    private Uri _dashboardAddress = null!;

    public async Task InitializeAsync()
    {
        (_playwright, _browser) = await Browser.LaunchAsync();
        _api = new SwitchableProxy(fixture.App.GetEndpoint(ResourceNames.Api, "http"));
        (_dashboard, _dashboardAddress) = await StartDashboardAsync(_api.Address, fixture.AdminKey);
    }

    public async Task DisposeAsync()
    {
        if (_dashboard is { HasExited: false })
        {
            _dashboard.Kill(entireProcessTree: true);
            await _dashboard.WaitForExitAsync();
        }

        _dashboard?.Dispose();
        await _api.DisposeAsync();
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }

    [Fact]
    public async Task A_live_page_shows_the_outage_retries_with_growing_pauses_and_recovers_by_itself()
    {
        var context = await _browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(_dashboardAddress, "/queues").ToString());
        await page.FillAsync("input[name=key]", fixture.AdminKey);
        await page.ClickAsync("form button[type=submit]");
        await page.WaitForURLAsync("**/queues");
        await Browser.WaitInteractiveAsync(page);
        var live = page.Locator("[data-live]");
        await Expect(live).ToBeVisibleAsync(new() { Timeout = 20_000 });
        // A refresh by the live circuit (not the prerendered answer) changes the time on the page.
        var prerendered = await live.TextContentAsync();
        await Expect(live).Not.ToHaveTextAsync(prerendered!, new() { Timeout = 20_000 });

        // The Api goes down: the page says so (keeping its last figures) and keeps trying, each pause longer.
        _api.Down();
        var outage = page.Locator("[data-outage]");
        await Expect(outage).ToBeVisibleAsync(new() { Timeout = 20_000 });
        await Expect(outage).ToContainTextAsync("could not be reached");
        await Expect(outage).ToHaveAttributeAsync("data-failures", "1");
        await Expect(outage).ToHaveAttributeAsync("data-retry-seconds", "2");
        await Expect(outage).ToHaveAttributeAsync("data-failures", "2", new() { Timeout = 20_000 });
        await Expect(outage).ToHaveAttributeAsync("data-retry-seconds", "4");
        await Expect(page.Locator("[data-grid=queues]")).ToBeVisibleAsync(); // the figures from before the outage stay

        // A reload during the outage answers at once with the page and the outage on it, not an error page.
        var clock = Stopwatch.StartNew();
        var reloaded = await page.ReloadAsync();
        var took = clock.Elapsed;
        Assert.Equal(200, reloaded!.Status);
        Assert.True(took < TimeSpan.FromSeconds(5), $"The reload during the outage took {took.TotalSeconds:0.0} s.");
        var html = await reloaded.TextAsync();
        Assert.Contains("The Api is not answering", html);
        Assert.DoesNotContain("Exception", html);
        await Browser.WaitInteractiveAsync(page);
        await Expect(outage).ToBeVisibleAsync();

        // The Api is back: the page recovers by itself, without a reload.
        _api.Up();
        await Expect(page.Locator("[data-live]")).ToBeVisibleAsync(new() { Timeout = 45_000 });
        await Expect(outage).ToHaveCountAsync(0);
        await Expect(page.Locator("[data-grid=queues] [data-queue='chat.completion']")).ToBeVisibleAsync();
    }

    /// <summary>The dashboard as built, in Development (so its static assets come from the build and an unhandled exception would show as a stack trace).</summary>
    private static async Task<(Process Process, Uri Address)> StartDashboardAsync(Uri api, string adminKey)
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(root.FullName, "AspireLlm.sln")))
        {
            root = root.Parent ?? throw new InvalidOperationException("No AspireLlm.sln above the tests.");
        }

        var configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        var project = Path.Combine(root.FullName, "Dashboard.Web");
        var dll = Path.Combine(project, "bin", configuration, "net10.0", "AspireLlm.Dashboard.Web.dll");
        var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        var address = new Uri($"http://127.0.0.1:{((System.Net.IPEndPoint)probe.LocalEndpoint).Port}");
        probe.Stop();
        var start = new ProcessStartInfo("dotnet", [dll])
        {
            WorkingDirectory = project,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["ASPNETCORE_URLS"] = address.ToString();
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.Environment["Admin__ApiKey"] = adminKey;
        start.Environment["Admin__ApiBaseAddress"] = api.ToString().TrimEnd('/');
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline && !process.HasExited)
        {
            try
            {
                using var alive = await http.GetAsync(new Uri(address, "/alive"));
                if (alive.IsSuccessStatusCode)
                {
                    return (process, address);
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }

            await Task.Delay(200);
        }

        throw new InvalidOperationException($"The dashboard did not start (exited: {process.HasExited}).");
    }
}
