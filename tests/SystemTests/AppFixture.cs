using System.Net.Http.Headers;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using AspireLlm.ServiceDefaults;

namespace AspireLlm.SystemTests;

/// <summary>
/// The whole application as <c>dotnet run --project AppHost</c> starts it on a machine without
/// containers (Redis and Postgres as local processes), with two Api and two Worker replicas, booted
/// once for every system test.
/// </summary>
public sealed class AppFixture : IAsyncLifetime
{
    /// <summary>
    /// About 45 s on an idle two-core machine and two minutes while the other test projects run beside
    /// it; the bound only has to catch a boot that never ends.
    /// </summary>
    public static readonly TimeSpan BootTimeout = TimeSpan.FromMinutes(6);

    public string AdminKey { get; } = "system-test-admin-" + Guid.NewGuid().ToString("N");

    public DistributedApplication App { get; private set; } = null!;

    public TimeSpan BootTime { get; private set; }

    /// <summary>Receives the traces the Api and Worker replicas export.</summary>
    public OtlpReceiver Traces { get; } = new();

    public async Task InitializeAsync()
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        using var timeout = new CancellationTokenSource(BootTimeout);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
        [
            "AspireLlm:Infrastructure=local",
            "AspireLlm:Replicas:api=2",
            "AspireLlm:Replicas:worker=2",
            $"Parameters:{ResourceNames.AdminKey}={AdminKey}",
        ], (options, _) => options.DisableDashboard = true, timeout.Token);

        // Live figures within a second instead of five, and gateway usage in the ledger within a second
        // instead of a minute, so the dashboard's tests need not wait.
        foreach (var project in builder.Resources.OfType<ProjectResource>().Where(r => r.Name is ResourceNames.Api or ResourceNames.Worker))
        {
            builder.CreateResourceBuilder(project)
                .WithEnvironment("Observability__FlushInterval", "00:00:01")
                .WithEnvironment("Observability__UsageFlushInterval", "00:00:01")
                .WithEnvironment("OTEL_EXPORTER_OTLP_ENDPOINT", Traces.Endpoint)
                .WithEnvironment("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
                .WithEnvironment("OTEL_BSP_SCHEDULE_DELAY", "500")
                // The agent tests' http_get reaches a tool server on loopback; a killed Worker's task moves on in seconds.
                .WithEnvironment("Agents__AllowPrivateNetworks", "true")
                .WithEnvironment("Agents__assistant__AllowedHosts__0", "127.0.0.1")
                .WithEnvironment("Worker__InvisibilityTimeoutSeconds", "10")
                // The webhook trace test's receiver listens on loopback.
                .WithEnvironment("Webhooks__AllowPrivateNetworks", "true");
        }

        App = await builder.BuildAsync(timeout.Token);
        await App.StartAsync(timeout.Token);

        var notifications = App.Services.GetRequiredService<ResourceNotificationService>();
        try
        {
            await notifications.WaitForResourceAsync(ResourceNames.Migrations, KnownResourceStates.Finished, timeout.Token);
            foreach (var resource in new[] { ResourceNames.Redis, ResourceNames.Postgres, ResourceNames.Api, ResourceNames.Worker, ResourceNames.Dashboard })
            {
                await notifications.WaitForResourceHealthyAsync(resource, timeout.Token);
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            // Every system test fails with this one message: say which resource held the boot up.
            throw new TimeoutException($"The app was not healthy after {started.Elapsed.TotalSeconds:F0} s: {ResourceStates(notifications)}");
        }

        BootTime = started.Elapsed;
    }

    private string ResourceStates(ResourceNotificationService notifications) => string.Join("; ",
        App.Services.GetRequiredService<DistributedApplicationModel>().Resources.Select(resource =>
            notifications.TryGetCurrentState(resource.Name, out var current)
                ? $"{resource.Name} {current.Snapshot.State?.Text} (health {current.Snapshot.HealthStatus?.ToString() ?? "unknown"}, exit code {current.Snapshot.ExitCode?.ToString() ?? "none"})"
                : $"{resource.Name} not started"));

    public async Task DisposeAsync()
    {
        if (App is not null)
        {
            await App.DisposeAsync();
        }

        Traces.Dispose();
    }

    public HttpClient CreateApiClient(string? key = null)
    {
        var client = App.CreateHttpClient(ResourceNames.Api);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key ?? AdminKey);
        return client;
    }
}

[CollectionDefinition(Name)]
public sealed class AppCollection : ICollectionFixture<AppFixture>
{
    public const string Name = "app";
}
