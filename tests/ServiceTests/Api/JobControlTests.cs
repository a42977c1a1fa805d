extern alias worker;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AspireLlm.Orchestration.Simulator;
using AspireLlm.ServiceTests.Worker;
using AspireLlm.Tests.Shared;
using Microsoft.Extensions.Logging.Abstractions;
using CancellationListener = worker::AspireLlm.Worker.Jobs.CancellationListener;

namespace AspireLlm.ServiceTests.Api;

/// <summary>Watching and steering a job through the Api while a worker runs it.</summary>
[Collection(ServiceCollection.Name)]
public sealed class JobControlTests(LocalInfrastructure infrastructure) : ApiAndWorkerTest(infrastructure)
{
    [Fact]
    public async Task Events_resume_by_last_event_id_on_another_api_replica_without_gaps_or_repeats()
    {
        using var client = await Api.CreateTenantClientAsync("tenant-events");
        var id = await SubmitAsync(client, "Hello there");

        // Replica A: a client watches the first events, then the replica goes away.
        var replicaA = new ApiFactory(Infrastructure);
        var seen = new List<SseEvent>();
        using (var watcherA = replicaA.CreateClientWithKey(client.DefaultRequestHeaders.Authorization!.Parameter!))
        {
            var run = Worker.ChatJob(new SimulatorOptions { TokensPerSecond = 40 }).RunAsync(id, await Worker.DispatchIdAsync(id), CancellationToken.None);
            using (var stream = await OpenEventsAsync(watcherA, id, lastEventId: null))
            {
                while (seen.Count < 6)
                {
                    seen.Add((await stream.ReadAsync())!);
                }
            }

            await replicaA.DisposeAsync();

            // Replica B: the client reconnects with the last id it saw and gets the rest.
            using var stream2 = await OpenEventsAsync(client, id, lastEventId: seen[^1].Id);
            seen.AddRange(await stream2.ReadToEndAsync());
            await run;
        }

        Assert.Equal(Enumerable.Range(1, seen.Count).Select(i => (long)i), seen.Select(e => e.Id));
        Assert.Equal("pending", seen[0].Data.GetProperty("status").GetString());
        Assert.Equal("processing", seen[1].Data.GetProperty("status").GetString());
        Assert.Equal(SimulatorGolden.HelloThere, string.Concat(seen.Where(e => e.Type == "token").Select(e => e.Data.GetProperty("text").GetString())));
        Assert.Equal("completed", seen[^1].Data.GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_client_that_connects_after_the_end_gets_the_history_and_the_final_event()
    {
        using var client = await Api.CreateTenantClientAsync("tenant-events");
        var id = await SubmitAsync(client, "late watcher");
        await Worker.ChatJob().RunAsync(id, await Worker.DispatchIdAsync(id), CancellationToken.None);

        using var stream = await OpenEventsAsync(client, id, lastEventId: null);
        var events = await stream.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal("pending", events[0].Data.GetProperty("status").GetString());
        Assert.Equal("completed", events[^1].Data.GetProperty("status").GetString());

        using var other = await Api.CreateTenantClientAsync("tenant-other");
        using var forbidden = await other.GetAsync($"/v1/jobs/{id}/events");
        Assert.Equal(HttpStatusCode.NotFound, forbidden.StatusCode);
    }

    [Fact]
    public async Task Cancelling_a_pending_job_means_it_never_starts()
    {
        using var client = await Api.CreateTenantClientAsync("tenant-cancel");
        var id = await SubmitAsync(client, "never run");

        using var cancelled = await client.PostAsync($"/v1/jobs/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        Assert.Equal("cancelled", (await cancelled.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());

        await Worker.ChatJob().RunAsync(id, await Worker.DispatchIdAsync(id), CancellationToken.None);
        var job = (await Worker.Store.GetAsync(id, CancellationToken.None))!;
        Assert.Equal("cancelled", job.Status);
        Assert.Equal(0, job.Attempts);

        using var again = await client.PostAsync($"/v1/jobs/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    [Fact]
    public async Task Cancelling_a_running_job_reaches_its_worker_within_a_second()
    {
        using var client = await Api.CreateTenantClientAsync("tenant-cancel");
        var id = await SubmitAsync(client, "long running");
        using var listener = new CancellationListener(Worker.Running, Worker.Store, Worker.Redis, TimeProvider.System,
            NullLogger<CancellationListener>.Instance);
        await listener.StartAsync(CancellationToken.None);

        var run = Worker.ChatJob(new SimulatorOptions { LatencyMs = 30_000 }).RunAsync(id, await Worker.DispatchIdAsync(id), CancellationToken.None);
        await ChatCompletionJobTests.WaitUntilAsync(async () => (await Worker.Store.GetAsync(id, CancellationToken.None))!.Status == "processing");

        var requested = System.Diagnostics.Stopwatch.StartNew();
        using var response = await client.PostAsync($"/v1/jobs/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await run.WaitAsync(TimeSpan.FromSeconds(5));
        requested.Stop();
        await listener.StopAsync(CancellationToken.None);

        Assert.Equal("cancelled", (await Worker.Store.GetAsync(id, CancellationToken.None))!.Status);
        // The bound is a second (Redis message, or the one-second poll); the margin absorbs a loaded CI machine.
        Assert.True(requested.Elapsed < TimeSpan.FromSeconds(3), $"cancellation took {requested.Elapsed}");
    }

    [Fact]
    public async Task An_admin_retries_a_failed_job_as_a_new_run()
    {
        using var client = await Api.CreateTenantClientAsync("tenant-retry");
        using var admin = Api.CreateClientWithKey(ApiFactory.AdminKey);
        var id = await SubmitAsync(client, "fail then retry");
        await Worker.Store.FailAsync(id, "provider_error", "boom", DateTimeOffset.UtcNow, CancellationToken.None);

        using var tenantTry = await client.PostAsync($"/v1/admin/jobs/{id}/retry", null);
        using var retried = await admin.PostAsync($"/v1/admin/jobs/{id}/retry", null);
        Assert.Equal(HttpStatusCode.Forbidden, tenantTry.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, retried.StatusCode);

        await Worker.ChatJob().RunAsync(id, await Worker.DispatchIdAsync(id), CancellationToken.None);
        var job = (await Worker.Store.GetAsync(id, CancellationToken.None))!;
        Assert.Equal("completed", job.Status);
        Assert.Equal(2, job.Run);

        using var completedRetry = await admin.PostAsync($"/v1/admin/jobs/{id}/retry", null);
        Assert.Equal(HttpStatusCode.Conflict, completedRetry.StatusCode);
    }

    [Fact]
    public async Task After_an_operator_retry_the_event_stream_runs_on_to_the_new_runs_end()
    {
        using var client = await Api.CreateTenantClientAsync("tenant-retry");
        using var admin = Api.CreateClientWithKey(ApiFactory.AdminKey);
        var id = await SubmitAsync(client, "Hello there");
        await Worker.Store.FailAsync(id, "provider_error", "boom", DateTimeOffset.UtcNow, CancellationToken.None);
        await Worker.Events.AppendAsync(id, Orchestration.Jobs.Events.JobEvent.ForStatus("failed", DateTimeOffset.UtcNow));
        using var retried = await admin.PostAsync($"/v1/admin/jobs/{id}/retry", null);
        Assert.Equal(HttpStatusCode.Accepted, retried.StatusCode);

        using var stream = await OpenEventsAsync(client, id, lastEventId: null);
        var reading = stream.ReadToEndAsync();
        await Worker.ChatJob().RunAsync(id, await Worker.DispatchIdAsync(id), CancellationToken.None);
        var events = await reading.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Contains(events, e => e.Type == "status" && e.Data.GetProperty("status").GetString() == "failed");
        var processing = events.Single(e => e.Type == "status" && e.Data.GetProperty("status").GetString() == "processing");
        Assert.Equal(2, processing.Data.GetProperty("run").GetInt32());
        Assert.Equal("completed", events[^1].Data.GetProperty("status").GetString());
    }

    [Fact]
    public async Task An_operator_inspects_and_cancels_any_tenants_job()
    {
        using var client = await Api.CreateTenantClientAsync("tenant-ops");
        using var admin = Api.CreateClientWithKey(ApiFactory.AdminKey);
        var id = await SubmitAsync(client, "for the operator");

        var detail = await admin.GetFromJsonAsync<JsonElement>($"/v1/admin/jobs/{id}");
        Assert.Equal("tenant-ops", detail.GetProperty("tenant_id").GetString());
        Assert.Equal("accepted", detail.GetProperty("steps")[0].GetProperty("step").GetString());
        Assert.False(detail.TryGetProperty("input", out _));

        using var tenantTry = await client.PostAsync($"/v1/admin/jobs/{id}/cancel", null);
        using var cancelled = await admin.PostAsync($"/v1/admin/jobs/{id}/cancel", null);
        using var missing = await admin.GetAsync($"/v1/admin/jobs/{Guid.NewGuid()}");

        Assert.Equal(HttpStatusCode.Forbidden, tenantTry.StatusCode);
        Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        Assert.Equal("cancelled", (await cancelled.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Each_key_reads_its_own_webhook_secret()
    {
        using var alice = await Api.CreateTenantClientAsync("tenant-a");
        using var bob = await Api.CreateTenantClientAsync("tenant-b");

        var aliceSecret = (await alice.GetFromJsonAsync<JsonElement>("/v1/webhooks/secret")).GetProperty("secret").GetString();
        var bobSecret = (await bob.GetFromJsonAsync<JsonElement>("/v1/webhooks/secret")).GetProperty("secret").GetString();

        Assert.Equal(64, aliceSecret!.Length);
        Assert.NotEqual(aliceSecret, bobSecret);
    }

    private static async Task<Guid> SubmitAsync(HttpClient client, string content)
    {
        using var response = await client.PostJobAsync(JobRequests.Chat(content));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.ReadJsonAsync()).GetProperty("id").GetGuid();
    }

    private static async Task<SseReader> OpenEventsAsync(HttpClient client, Guid id, long? lastEventId)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/jobs/{id}/events");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId.ToString());
        }

        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return new SseReader(await response.Content.ReadAsStreamAsync());
    }
}
