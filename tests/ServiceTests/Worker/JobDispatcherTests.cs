extern alias worker;
using AspireLlm.Orchestration.Jobs;
using AspireLlm.ServiceTests.Api;
using AspireLlm.Tests.Shared;
using Hangfire;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using JobDispatcher = worker::AspireLlm.Worker.Jobs.JobDispatcher;
using WorkerOptions = worker::AspireLlm.Worker.Jobs.WorkerOptions;

namespace AspireLlm.ServiceTests.Worker;

/// <summary>The Api commits a job row; the Worker's dispatcher, woken by NOTIFY, queues it on its kind's queue.</summary>
[Collection(ServiceCollection.Name)]
public sealed class JobDispatcherTests(LocalInfrastructure infrastructure) : ApiAndWorkerTest(infrastructure)
{
    [Theory]
    [InlineData("chat.completion", "chat")]
    [InlineData("batch", "batch")]
    public async Task An_accepted_job_is_queued_on_its_kinds_queue_at_once(string kind, string queue)
    {
        using var client = await Api.CreateTenantClientAsync("tenant-dispatch");
        var body = JobRequests.Chat("queue me");
        if (kind == "batch")
        {
            body = new System.Text.Json.Nodes.JsonObject
            {
                ["kind"] = "batch",
                ["input"] = new System.Text.Json.Nodes.JsonObject { ["requests"] = new System.Text.Json.Nodes.JsonArray(JobRequests.Chat("item")["input"]!.DeepClone()) },
            };
        }

        // A job accepted before the dispatcher starts is queued by its first sweep, which runs once it
        // LISTENs; the sweep after that is 10 minutes away, so the second job can only be queued by its NOTIFY.
        var early = await PostAsync(client, body);
        var storage = HangfireStorage.Create(Worker.DataSource, TimeSpan.FromMinutes(1));
        using var dispatcher = new JobDispatcher(Worker.DataSource, Worker.Store, new BackgroundJobClient(storage),
            Options.Create(new WorkerOptions { DispatchSweepSeconds = 600 }), TimeProvider.System, NullLogger<JobDispatcher>.Instance);
        await dispatcher.StartAsync(CancellationToken.None);
        await WaitUntilQueuedAsync(early);

        var id = await PostAsync(client, body);
        await WaitUntilQueuedAsync(id);
        await dispatcher.StopAsync(CancellationToken.None);

        await using var command = Worker.DataSource.CreateCommand("""
            SELECT queue FROM hangfire.jobqueue WHERE jobid = (SELECT hangfire_job_id::bigint FROM jobs WHERE id = $1)
            """);
        command.Parameters.AddWithValue(id);
        Assert.Equal(queue, await command.ExecuteScalarAsync());
    }

    private static async Task<Guid> PostAsync(HttpClient client, System.Text.Json.Nodes.JsonObject body)
    {
        using var response = await client.PostJobAsync(body);
        return (await response.ReadJsonAsync()).GetProperty("id").GetGuid();
    }

    // "dispatching" marks a claimed row whose Hangfire id is not recorded yet.
    private Task WaitUntilQueuedAsync(Guid id) => ChatCompletionJobTests.WaitUntilAsync(async () =>
        (await Worker.Store.GetAsync(id, CancellationToken.None))!.HangfireJobId is { } hangfireId && hangfireId != JobStore.Dispatching);
}
