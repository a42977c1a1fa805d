using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using AspireLlm.Tests.Shared;
using Xunit.Abstractions;

namespace AspireLlm.ServiceTests.Deploy;

/// <summary>Real processes over their own Postgres and Redis: the drain on SIGTERM and a rolling restart.</summary>
[CollectionDefinition(Name)]
public sealed class RollingCollection : ICollectionFixture<LocalInfrastructure>
{
    public const string Name = "rolling";
}

/// <summary>
/// One Api process told to stop (SIGTERM) while a chat completion streams from it and a job event stream
/// is open on it: readiness fails at once while it still serves, new connections are refused after the
/// drain delay, the chat stream finishes whole, the event stream ends with a retry hint and resumes on
/// another replica, and the process exits 0.
/// </summary>
[Collection(RollingCollection.Name)]
public sealed class DrainTests(LocalInfrastructure infrastructure, ITestOutputHelper output)
{
    [Fact]
    public async Task An_api_replica_on_SIGTERM_fails_readiness_first_finishes_its_streams_then_refuses_and_exits_0()
    {
        // 8 tokens/s: the 22-token answer takes about 3 s, longer than the 2 s drain delay.
        using var draining = ServiceProcess.Start("Api", infrastructure, RollingClients.ApiSettings(tokensPerSecond: 8));
        using var other = ServiceProcess.Start("Api", infrastructure, RollingClients.ApiSettings(tokensPerSecond: 0));
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await draining.WaitHealthyAsync(probe);
        await other.WaitHealthyAsync(probe);
        using var client = RollingClients.Client(draining.BaseAddress);

        // A job that never runs (no Worker here) keeps its event stream open; it is cancelled at the end.
        using var submitted = await client.PostAsJsonAsync("/v1/jobs", new { kind = "chat.completion", input = new { model = "gpt-4o-mini", messages = new[] { new { role = "user", content = "Hello there" } } } });
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        var jobId = (await submitted.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("id").GetGuid();
        using var events = await client.GetAsync($"/v1/jobs/{jobId}/events", HttpCompletionOption.ResponseHeadersRead);
        var eventsEnded = ReadToEndAsync(events);

        var signalled = new TaskCompletionSource<DateTime>();
        var stream = RollingClients.StreamChatAsync(client, onFirstChunk: () =>
        {
            draining.Signal("TERM");
            signalled.SetResult(DateTime.UtcNow);
            return Task.CompletedTask;
        });
        var signalledAt = await signalled.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // Readiness goes false while the process still answers.
        var notReady = await PollAsync(async () => (await probe.GetAsync(new Uri(draining.BaseAddress, "/health"))).StatusCode == HttpStatusCode.ServiceUnavailable);
        output.WriteLine($"/health answered 503 {(DateTime.UtcNow - signalledAt).TotalMilliseconds:F0} ms after SIGTERM");
        Assert.True(notReady, "readiness did not fail");
        Assert.Equal(HttpStatusCode.OK, (await probe.GetAsync(new Uri(draining.BaseAddress, "/alive"))).StatusCode);

        // After the drain delay, new connections are refused while the stream is still being answered.
        var refused = await PollAsync(async () =>
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(draining.BaseAddress.Host, draining.BaseAddress.Port);
                return false;
            }
            catch (SocketException)
            {
                return true;
            }
        }, TimeSpan.FromSeconds(5));
        var refusedAfter = DateTime.UtcNow - signalledAt;
        output.WriteLine($"new connections refused {refusedAfter.TotalMilliseconds:F0} ms after SIGTERM");
        Assert.True(refused, "the draining replica still accepted connections");
        Assert.True(refusedAfter >= TimeSpan.FromSeconds(2), "connections were refused before the drain delay was over");
        Assert.False(stream.IsCompleted, "the stream had already finished: the test did not overlap the drain");

        var result = await stream.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(RollingClients.IsWhole(result), $"stream cut: done={result.Done}, error={result.Error?.Message}, content='{result.Content}'");

        // The event stream ended cleanly (no final status: the job is still pending) with a retry hint…
        var ended = await eventsEnded.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Contains("retry: 1000", ended);
        Assert.DoesNotContain("\"status\":\"completed\"", ended);
        // …and the client resumes on the other replica.
        using var elsewhere = RollingClients.Client(other.BaseAddress);
        using var cancelled = await elsewhere.PostAsync($"/v1/jobs/{jobId}/cancel", null);
        Assert.True(cancelled.IsSuccessStatusCode);
        var (_, final, _) = await RollingClients.FollowJobAsync(elsewhere, jobId, TimeSpan.FromSeconds(20));
        Assert.Equal("cancelled", final);

        Assert.True(await draining.WaitForExitAsync(TimeSpan.FromSeconds(30)), "the Api did not exit");
        Assert.Equal(0, draining.ExitCode);
        output.WriteLine($"exited 0 {(DateTime.UtcNow - signalledAt).TotalSeconds:F1} s after SIGTERM");
    }

    private static async Task<string> ReadToEndAsync(HttpResponseMessage response)
    {
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        return await reader.ReadToEndAsync();
    }

    private static async Task<bool> PollAsync(Func<Task<bool>> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(2));
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(50);
        }

        return false;
    }
}
