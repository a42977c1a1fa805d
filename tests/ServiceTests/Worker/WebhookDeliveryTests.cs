extern alias worker;
using AspireLlm.Orchestration.Jobs;
using AspireLlm.Orchestration.Jobs.Webhooks;
using AspireLlm.Tests.Shared;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using WebhooksExtensions = worker::AspireLlm.Worker.Webhooks.WebhooksExtensions;

namespace AspireLlm.ServiceTests.Worker;

/// <summary>The webhook sender against a real local receiver over HTTP.</summary>
[Collection(ServiceCollection.Name)]
public sealed class WebhookDeliveryTests(LocalInfrastructure infrastructure) : IAsyncLifetime
{
    private WorkerHarness _worker = null!;
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync()
    {
        _worker = await WorkerHarness.CreateAsync(infrastructure);
        _receiver = await WebhookReceiver.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await _worker.DisposeAsync();
    }

    private string HookUrl => _receiver.Url;

    [Fact]
    public async Task Webhook_is_signed_retried_after_a_500_and_sent_once_for_a_job_run_twice()
    {
        _receiver.FailuresToSend = 1;
        var id = await _worker.CreateJobAsync(WorkerHarness.ChatInput("notify me"), webhookUrl: HookUrl);
        await _worker.ChatJob().RunAsync(id, await _worker.DispatchIdAsync(id), CancellationToken.None);
        await _worker.ChatJob().RunAsync(id, await _worker.DispatchIdAsync(id), CancellationToken.None); // a duplicate delivery of the job

        using var sender = await StartSenderAsync(allowPrivateNetworks: true);
        await ChatCompletionJobTests.WaitUntilAsync(async () => await DeliveryStatusAsync(id) == "delivered", timeoutSeconds: 15);
        await Task.Delay(500); // nothing more may arrive
        await sender.StopAsync();

        var received = _receiver.Received.ToList();
        Assert.Equal(2, received.Count);
        Assert.All(received, webhook => Assert.Equal($"{id}.1", webhook.Id));
        var secret = await SecretAsync(id);
        var last = received[^1];
        Assert.True(WebhookSignature.Verify(secret, last.Timestamp, last.Body, last.Signature, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5)));
        Assert.False(WebhookSignature.Verify(secret, last.Timestamp + 1, last.Body, last.Signature, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5)));
        Assert.Contains("\"completed\"", last.Body);
        Assert.Equal(1, await _worker.CountAsync("SELECT count(*) FROM usage_ledger WHERE job_id = $1", id));
        Assert.Equal(2, await _worker.CountAsync("SELECT count(*) FROM webhook_attempts WHERE job_id = $1", id));
        Assert.Equal(1, await _worker.CountAsync("SELECT count(*) FROM webhook_attempts WHERE job_id = $1 AND status_code = 500", id));
    }

    [Fact]
    public async Task Private_destinations_are_refused_unless_allowed()
    {
        var id = await _worker.CreateJobAsync(WorkerHarness.ChatInput("to loopback"), webhookUrl: HookUrl);
        await _worker.ChatJob().RunAsync(id, await _worker.DispatchIdAsync(id), CancellationToken.None);

        using var sender = await StartSenderAsync(allowPrivateNetworks: false);
        await ChatCompletionJobTests.WaitUntilAsync(async () =>
            await _worker.CountAsync("SELECT count(*) FROM webhook_attempts WHERE job_id = $1", id) >= 1);
        await sender.StopAsync();

        Assert.DoesNotContain(_receiver.Received, webhook => webhook.Id.StartsWith(id.ToString(), StringComparison.Ordinal));
        Assert.Equal("pending", await DeliveryStatusAsync(id));
    }

    private async Task<IHost> StartSenderAsync(bool allowPrivateNetworks)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Webhooks:AllowPrivateNetworks"] = allowPrivateNetworks.ToString(),
            ["Webhooks:InitialBackoffSeconds"] = "1",
            ["Webhooks:PollIntervalMilliseconds"] = "100",
        });
        builder.Services.AddSingleton(_worker.Store);
        builder.Services.AddSingleton(TimeProvider.System);
        WebhooksExtensions.AddWebhooks(builder);
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    private async Task<string?> DeliveryStatusAsync(Guid jobId)
    {
        await using var command = _worker.DataSource.CreateCommand("SELECT status FROM webhook_deliveries WHERE job_id = $1");
        command.Parameters.AddWithValue(jobId);
        return (string?)await command.ExecuteScalarAsync();
    }

    private async Task<string> SecretAsync(Guid jobId)
    {
        var job = await _worker.Store.GetAsync(jobId, CancellationToken.None);
        return await new WebhookSecretStore(_worker.DataSource, TestEncryption.Cipher).GetOrCreateAsync(job!.ApiKeyId, CancellationToken.None);
    }
}
