using System.Net;
using AspireLlm.Orchestration.Jobs;
using AspireLlm.ServiceTests.Api;
using AspireLlm.ServiceTests.Worker;
using AspireLlm.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit.Abstractions;

namespace AspireLlm.ServiceTests.Faults;

/// <summary>
/// Postgres goes away for a few seconds: the Worker reports not-ready but stays alive, the Api answers
/// 503 and writes nothing, and when Postgres is back both resume without a restart.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class DatabaseOutageTests(LocalInfrastructure infrastructure, ITestOutputHelper output) : ApiAndWorkerTest(infrastructure)
{
    [Fact]
    public async Task Services_ride_out_a_brief_database_outage()
    {
        using var client = await Api.CreateTenantClientAsync("tenant-outage");
        using var worker = ServiceProcess.Start("Worker", Infrastructure, new Dictionary<string, string>());
        using var probe = new HttpClient { BaseAddress = worker.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        await WaitForStatusAsync(probe, "/health", HttpStatusCode.OK);
        await CompleteOneJobAsync(client, "before the outage", worker);

        Infrastructure.StopPostgres();
        try
        {
            await WaitForStatusAsync(probe, "/health", HttpStatusCode.ServiceUnavailable);
            Assert.Equal(HttpStatusCode.OK, (await probe.GetAsync("/alive")).StatusCode);

            using var refused = await client.PostJobAsync(JobRequests.Chat("during the outage"));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.NotNull(refused.Headers.RetryAfter);
            await Task.Delay(TimeSpan.FromSeconds(3));
        }
        finally
        {
            await Infrastructure.StartPostgresAsync();
        }

        // Connections pooled in this test process (the harness's and the in-process Api's) died with the
        // old server; each would fail once (a 503 in the Api) before its pool drops it. Start them clean.
        Worker.DataSource.Clear();
        Api.Services.GetRequiredService<NpgsqlDataSource>().Clear();
        await WaitForStatusAsync(probe, "/health", HttpStatusCode.OK);
        Assert.False(worker.HasExited);
        await CompleteOneJobAsync(client, "after the outage", worker);
        // The refused request wrote nothing: no job row exists with its content (inputs are sealed, so read through the store).
        var inputs = await InputsOfTenantAsync("tenant-outage");
        Assert.DoesNotContain(inputs, input => input.Contains("during the outage", StringComparison.Ordinal));
        Assert.Single(inputs, input => input.Contains("after the outage", StringComparison.Ordinal));
    }

    private async Task<List<string>> InputsOfTenantAsync(string tenant)
    {
        var ids = new List<Guid>();
        await using (var command = Worker.DataSource.CreateCommand("SELECT id FROM jobs WHERE tenant_id = $1"))
        {
            command.Parameters.AddWithValue(tenant);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                ids.Add(reader.GetGuid(0));
            }
        }

        var inputs = new List<string>();
        foreach (var id in ids)
        {
            inputs.Add((await Worker.Store.GetAsync(id, CancellationToken.None))!.Input.GetRawText());
        }

        return inputs;
    }

    private async Task CompleteOneJobAsync(HttpClient client, string content, ServiceProcess worker)
    {
        using var accepted = await client.PostJobAsync(JobRequests.Chat(content));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var id = (await accepted.ReadJsonAsync()).GetProperty("id").GetGuid();
        var deadline = DateTime.UtcNow.AddSeconds(45);
        while ((await Worker.Store.GetAsync(id, CancellationToken.None))!.Status != JobStatus.Completed)
        {
            if (DateTime.UtcNow > deadline)
            {
                output.WriteLine(worker.Output);
                Assert.Fail($"Job '{content}' did not complete.");
            }

            await Task.Delay(100);
        }
    }

    private static async Task WaitForStatusAsync(HttpClient probe, string path, HttpStatusCode expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                using var response = await probe.GetAsync(path);
                if (response.StatusCode == expected)
                {
                    return;
                }
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
            }

            Assert.True(DateTime.UtcNow < deadline, $"{path} did not answer {expected} in time");
            await Task.Delay(200);
        }
    }
}
