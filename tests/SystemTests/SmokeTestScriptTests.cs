using System.Diagnostics;
using Aspire.Hosting.Testing;
using Xunit.Abstractions;

namespace AspireLlm.SystemTests;

/// <summary>
/// deploy/smoke-test.sh, which CI runs after every deployment, passes against the AppHost's own
/// application (two Api and two Worker replicas), so a failure after a deployment means the deployment.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class SmokeTestScriptTests(AppFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task The_post_deploy_smoke_test_passes_against_the_local_app_host()
    {
        var script = Path.Combine(RepositoryRoot(), "deploy", "smoke-test.sh");
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(fixture.App.GetEndpoint("api", "http").ToString());
        start.ArgumentList.Add(fixture.App.GetEndpoint("dashboard", "http").ToString());
        start.Environment["ADMIN_KEY"] = fixture.AdminKey;

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        var text = await stdout + await stderr;
        output.WriteLine(text);

        Assert.True(process.ExitCode == 0, text);
        Assert.Contains("ok    streamed chat completion ends with [DONE]", text);
        Assert.Contains("completed through the Worker", text);
        Assert.Contains("ok    dashboard GET /health", text);
        Assert.DoesNotContain("FAIL", text);
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "AspireLlm.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("AspireLlm.sln not found");
    }
}
