using Microsoft.Playwright;

namespace AspireLlm.SystemTests.Browser;

/// <summary>Debian's chromium driven by Playwright through its executable path: Playwright's own browser download does not work here.</summary>
internal static class Browser
{
    public const string ChromiumPath = "/usr/bin/chromium";

    public static async Task<(IPlaywright Playwright, IBrowser Browser)> LaunchAsync()
    {
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        return (playwright, browser);
    }

    /// <summary>
    /// Waits until the page runs on Blazor's circuit (the layout marks its first interactive render), so
    /// clicks and inputs reach the server; 30 s, as the circuit is slow to come up while other test projects run.
    /// </summary>
    public static Task WaitInteractiveAsync(IPage page) =>
        Assertions.Expect(page.Locator("[data-circuit=interactive]")).ToBeAttachedAsync(new() { Timeout = 30_000 });

    /// <summary>
    /// Where a page's screenshot goes: docs/screenshots in the repository (where the README shows them)
    /// only when UPDATE_SCREENSHOTS=1, otherwise a folder under the system's temporary directory, so an
    /// ordinary test run leaves the tracked files alone.
    /// </summary>
    public static string ScreenshotPath(string name)
    {
        string folder;
        if (Environment.GetEnvironmentVariable("UPDATE_SCREENSHOTS") == "1")
        {
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "AspireLlm.sln")))
            {
                directory = directory.Parent;
            }

            folder = Path.Combine(directory?.FullName ?? throw new InvalidOperationException("No AspireLlm.sln above the test's folder."), "docs", "screenshots");
        }
        else
        {
            folder = Path.Combine(Path.GetTempPath(), "aspirellm-screenshots");
        }

        Directory.CreateDirectory(folder);
        return Path.Combine(folder, name + ".png");
    }
}
