extern alias worker;
using System.Diagnostics;
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
        var storage = HangfireStorage.Create(Worker.DataSource, TimeSpan.FromMinutes(1));
        using var dispatcher = new JobDispatcher(Worker.DataSource, Worker.Store, new BackgroundJobClient(storage),
            Options.Create(new WorkerOptions { DispatchSweepSeconds = 600 }), TimeProvider.System, NullLogger<JobDispatcher>.Instance);
        await dispatcher.StartAsync(CancellationToken.None);
        await Task.Delay(200); // let it LISTEN, so that only the notification can explain a prompt dispatch

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

        var accepted = Stopwatch.StartNew();
        using var response = await client.PostJobAsync(body);
        var id = (await response.ReadJsonAsync()).GetProperty("id").GetGuid();
        // "dispatching" marks a claimed row whose Hangfire id is not recorded yet.
        await ChatCompletionJobTests.WaitUntilAsync(async () =>
            (await Worker.Store.GetAsync(id, CancellationToken.None))!.HangfireJobId is { } hangfireId && hangfireId != JobStore.Dispatching);
        accepted.Stop();
        await dispatcher.StopAsync(CancellationToken.None);

        Assert.True(accepted.Elapsed < TimeSpan.FromSeconds(3), $"dispatch took {accepted.Elapsed} with the sweep at 10 minutes");
        await using var command = Worker.DataSource.CreateCommand("""
            SELECT queue FROM hangfire.jobqueue WHERE jobid = (SELECT hangfire_job_id::bigint FROM jobs WHERE id = $1)
            """);
        command.Parameters.AddWithValue(id);
        Assert.Equal(queue, await command.ExecuteScalarAsync());
    }
}
