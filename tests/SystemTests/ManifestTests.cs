using System.Diagnostics;
using System.Text.Json;

namespace AspireLlm.SystemTests;

/// <summary>The AppHost publishes an Aspire manifest a deployment tool can use.</summary>
public sealed class ManifestTests
{
    [Fact]
    public async Task Manifest_describes_projects_containers_and_secret_parameters()
    {
        var output = Path.Combine(Path.GetTempPath(), $"aspirellm-manifest-{Guid.NewGuid():N}.json");
        var appHost = Projects.AppHost.ProjectPath;
        try
        {
            var start = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var arg in new[] { "run", "--project", appHost, "--no-build", "--no-launch-profile", "--", "--publisher", "manifest", "--output-path", output })
            {
                start.ArgumentList.Add(arg);
            }

            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await process.WaitForExitAsync(timeout.Token);
            Assert.True(process.ExitCode == 0, $"publish failed: {await stdout}{await stderr}");

            using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(output));
            var resources = manifest.RootElement.GetProperty("resources");
            foreach (var project in new[] { "api", "worker", "dashboard", "migrations" })
            {
                Assert.StartsWith("project.", resources.GetProperty(project).GetProperty("type").GetString());
            }

            Assert.StartsWith("container.", resources.GetProperty("cache").GetProperty("type").GetString());
            Assert.StartsWith("container.", resources.GetProperty("postgres").GetProperty("type").GetString());
            Assert.True(resources.TryGetProperty("llmdb", out _));

            foreach (var secret in new[] { "admin-key", "conversation-key", "openai-api-key", "anthropic-api-key" })
            {
                var parameter = resources.GetProperty(secret);
                Assert.Equal("parameter.v0", parameter.GetProperty("type").GetString());
                Assert.True(parameter.GetProperty("inputs").GetProperty("value").GetProperty("secret").GetBoolean(), $"{secret} must be secret");
            }

            // The api references the database and the cache by the names the services read.
            var apiEnv = resources.GetProperty("api").GetProperty("env");
            Assert.True(apiEnv.TryGetProperty("ConnectionStrings__llmdb", out _));
            Assert.True(apiEnv.TryGetProperty("ConnectionStrings__cache", out _));

            // Content is sealed at rest with the conversation secret: every process that seals or opens
            // it (and the migrations step, which seals what an older version stored in the clear) gets it.
            foreach (var project in new[] { "api", "worker", "migrations" })
            {
                Assert.Equal("{conversation-key.value}",
                    resources.GetProperty(project).GetProperty("env").GetProperty("Conversations__EncryptionKey").GetString());
            }
        }
        finally
        {
            File.Delete(output);
        }
    }
}
