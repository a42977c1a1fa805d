using Aspire.Hosting.Testing;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AspireLlm.Tests.Shared;
using Xunit.Abstractions;

namespace AspireLlm.SystemTests;

/// <summary>A client submits a job to the Api; a separate Worker process runs it; the client polls.</summary>
[Collection(AppCollection.Name)]
public sealed class JobPathTests(AppFixture fixture, ITestOutputHelper output)
{
    private const string HelloJob = """
        {"kind":"chat.completion","input":{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello there"}],"temperature":0}}
        """;

    [Fact]
    public async Task Submitted_job_is_run_by_the_worker_and_polled_to_completion()
    {
        output.WriteLine($"AppHost boot to all-healthy: {fixture.BootTime.TotalSeconds:F1} s");
        using var client = fixture.CreateApiClient();

        using var accepted = await client.PostAsync("/v1/jobs", Json(HelloJob));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var location = accepted.Headers.Location!;

        var statuses = new List<string>();
        JsonElement job;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        do
        {
            using var poll = await client.GetAsync(location);
            Assert.Equal(HttpStatusCode.OK, poll.StatusCode);
            job = await poll.Content.ReadFromJsonAsync<JsonElement>();
            var status = job.GetProperty("status").GetString()!;
            if (statuses.Count == 0 || statuses[^1] != status)
            {
                statuses.Add(status);
            }

            if (status is "completed" or "failed")
            {
                break;
            }

            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);

        output.WriteLine("Statuses seen: " + string.Join(" → ", statuses));
        Assert.Equal("completed", statuses[^1]);
        Assert.Equal(statuses, new[] { "pending", "processing", "completed" }.Where(statuses.Contains));
        Assert.Equal(["accepted", "running", "completed"], job.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("step").GetString()));
        var message = job.GetProperty("result").GetProperty("choices")[0].GetProperty("message");
        Assert.Equal(SimulatorGolden.HelloThere, message.GetProperty("content").GetString());
        Assert.Equal(100, job.GetProperty("progress").GetInt32());
        Assert.Equal(SimulatorGolden.HelloThere.Split(' ').Length, job.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Job_events_stream_from_the_worker_process_through_redis_to_the_api()
    {
        using var client = fixture.CreateApiClient();
        using var accepted = await client.PostAsync("/v1/jobs", Json(HelloJob));
        var location = accepted.Headers.Location!.OriginalString;

        using var response = await client.GetAsync(location + "/events", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var events = await reader.ReadToEndAsync(timeout.Token);

        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Id));
        Assert.Equal("pending", events[0].Data.GetProperty("status").GetString());
        Assert.Equal(SimulatorGolden.HelloThere, string.Concat(events.Where(e => e.Type == "token").Select(e => e.Data.GetProperty("text").GetString())));
        Assert.Equal("completed", events[^1].Data.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Idempotent_resubmission_returns_the_same_job_through_either_api_replica()
    {
        var key = "system-" + Guid.NewGuid();
        var ids = new List<Guid>();
        for (var i = 0; i < 4; i++)
        {
            // A new client (new connection) each time, so the proxy spreads them over both replicas.
            using var client = fixture.CreateApiClient();
            using var request = Json(HelloJob);
            request.Headers.Add("Idempotency-Key", key);
            using var response = await client.PostAsync("/v1/jobs", request);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            ids.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid());
        }

        Assert.Single(ids.Distinct());
    }

    [Fact]
    public async Task Api_and_worker_answer_probes()
    {
        foreach (var resource in new[] { "api", "worker", "dashboard" })
        {
            using var client = fixture.App.CreateHttpClient(resource);
            Assert.Equal("Healthy", await client.GetStringAsync("/health"));
            Assert.Equal("Healthy", await client.GetStringAsync("/alive"));
        }
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
