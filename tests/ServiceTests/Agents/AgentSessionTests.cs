using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using AspireLlm.Orchestration.Jobs;
using AspireLlm.Tests.Shared;
using Xunit.Abstractions;

namespace AspireLlm.ServiceTests.Agents;

/// <summary>The agent protocol on real sockets: a whole task across two Api processes, bad frames, cancel, tickets, caps, detach.</summary>
[Collection(AgentCollection.Name)]
public sealed class AgentSessionTests(AgentCluster cluster, ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static object Start(string taskId, object[] script, string agent = "tester") => new
    {
        type = "start_task", agent, input = "Plan my trip.", task_id = taskId,
        metadata = new Dictionary<string, object> { ["simulator_script"] = script },
    };

    private static string TypeOf(JsonElement item) => item.GetProperty("type").GetString()!;

    [Fact]
    public async Task A_task_thinks_calls_a_tool_asks_and_completes_after_resuming_on_the_other_api()
    {
        var key = await cluster.CreateKeyAsync("tenant-agents");
        var taskId = "trip-" + Guid.NewGuid().ToString("N")[..8];
        object[] script =
        [
            new { thought = "I should look at the page first." },
            new { tool = "http_get", arguments = new { url = $"{cluster.ToolBase}/weather" } },
            new { ask = "Which city?" },
            new { thought = "Lisbon it is." },
            new { answer = "Pack for Lisbon." },
        ];

        await using var first = await AgentSocketClient.ConnectAsync(cluster.Api1.BaseAddress, key);
        await first.SendAsync(Start(taskId, script));
        var before = await first.ReceiveUntilAsync(AgentSocketClient.OfType("need_input"), Wait);
        await first.DisposeAsync(); // the client drops; the task waits for its answer without a Worker

        var jobId = Guid.Parse(await JobIdAsync(taskId));
        var waiting = await cluster.WaitForJobAsync(jobId, job => job.Status == JobStatus.Pending && job.CurrentStep == "waiting for input", Wait);
        Assert.Null(waiting.HangfireJobId);

        await using var second = await AgentSocketClient.ConnectAsync(cluster.Api2.BaseAddress, key);
        var lastSeq = before[^1].GetProperty("seq").GetInt64();
        await second.SendAsync(new { type = "resume", task_id = taskId, after_seq = lastSeq - 1 });
        var replayed = await second.ReceiveUntilAsync(AgentSocketClient.OfType("need_input"), Wait);
        Assert.Equal(lastSeq, replayed.Single().GetProperty("seq").GetInt64());
        var requestId = replayed[0].GetProperty("request_id").GetString();
        Assert.Equal("Which city?", replayed[0].GetProperty("prompt").GetString());

        await second.SendAsync(new { type = "provide_input", task_id = taskId, request_id = requestId, input = "Lisbon" });
        var after = await second.ReceiveUntilAsync(AgentSocketClient.OfType("complete"), Wait);

        var all = before.Concat(after).ToList();
        output.WriteLine(string.Join("\n", all.Select(e => e.GetRawText())));
        Assert.Equal(Enumerable.Range(1, all.Count).Select(i => (long)i), all.Select(e => e.GetProperty("seq").GetInt64()));
        Assert.All(all, e => Assert.Equal(taskId, e.GetProperty("task_id").GetString()));
        Assert.Equal(["task_started", "thought", "action", "tool_result", "need_input", "thought", "complete"], all.Select(TypeOf));
        var action = all.Single(e => TypeOf(e) == "action");
        Assert.Equal("http_get", action.GetProperty("tool").GetString());
        var result = all.Single(e => TypeOf(e) == "tool_result");
        Assert.Equal(action.GetProperty("call_id").GetString(), result.GetProperty("call_id").GetString());
        Assert.False(result.GetProperty("is_error").GetBoolean());
        Assert.Contains("page /weather", result.GetProperty("result").GetString());
        var complete = all[^1];
        Assert.Equal("Pack for Lisbon.", complete.GetProperty("output").GetString());
        Assert.True(complete.GetProperty("usage").GetProperty("total_tokens").GetInt64() > 0);
        Assert.Equal(1, cluster.ToolHits[$"/weather"]);

        var job = await cluster.WaitForJobAsync(jobId, job => job.Status == JobStatus.Completed, Wait);
        Assert.Equal(1, await cluster.CountAsync("SELECT count(*) FROM usage_ledger WHERE job_id = $1", jobId));
        // The step log has what happened and never the content.
        var steps = job.Steps.EnumerateArray().Select(step => step.GetProperty("step").GetString()).ToList();
        Assert.Contains("action", steps);
        Assert.Contains("tool_result", steps);
        Assert.Contains("need_input", steps);
        Assert.Contains("input received", steps);
        Assert.DoesNotContain("Lisbon", job.Steps.GetRawText());
    }

    [Fact]
    public async Task Bad_frames_get_error_events_and_the_session_goes_on()
    {
        var key = await cluster.CreateKeyAsync("tenant-frames");
        var otherKey = await cluster.CreateKeyAsync("tenant-other");
        var otherTask = "theirs-" + Guid.NewGuid().ToString("N")[..8];
        await using (var other = await AgentSocketClient.ConnectAsync(cluster.Api1.BaseAddress, otherKey))
        {
            await other.SendAsync(Start(otherTask, [new { ask = "Hm?" }]));
            await other.ReceiveUntilAsync(AgentSocketClient.OfType("need_input"), Wait);
            await other.SendAsync(new { type = "cancel", task_id = otherTask });
            await other.ReceiveUntilAsync(AgentSocketClient.OfType("error"), Wait);
        }

        await using var client = await AgentSocketClient.ConnectAsync(cluster.Api2.BaseAddress, key);
        var mine = "mine-" + Guid.NewGuid().ToString("N")[..8];
        await client.SendAsync(Start(mine, [new { ask = "Really?" }]));
        var asked = (await client.ReceiveUntilAsync(AgentSocketClient.OfType("need_input"), Wait))[^1];

        async Task ExpectErrorAsync(Func<Task> send, string code)
        {
            await send();
            var error = await client.ReceiveUntilAsync(AgentSocketClient.OfType("error"), Wait);
            Assert.Equal(code, error[^1].GetProperty("code").GetString());
            await client.SendAsync(new { type = "ping" });
            Assert.Equal("pong", TypeOf((await client.ReceiveAsync(Wait))!.Value));
        }

        await ExpectErrorAsync(() => client.SendTextAsync("{not json"), "invalid_json");
        await ExpectErrorAsync(() => client.SendTextAsync(""), "invalid_json");
        await ExpectErrorAsync(() => client.SendTextAsync("[1,2]"), "invalid_frame");
        await ExpectErrorAsync(() => client.SendBinaryAsync([1, 2, 3]), "binary_frame");
        await ExpectErrorAsync(() => client.SendAsync(new { type = "dance" }), "unknown_type");
        await ExpectErrorAsync(() => client.SendAsync(new { type = "ping", extra = 1 }), "invalid_frame");
        await ExpectErrorAsync(() => client.SendTextAsync("""{"type":"ping","type":"ping"}"""), "invalid_json");
        await ExpectErrorAsync(() => client.SendAsync(new { type = "start_task", agent = "nobody", input = "x" }), "invalid_request");
        await ExpectErrorAsync(() => client.SendAsync(new { type = "start_task", agent = "tester", input = "x", surprise = true }), "invalid_request");
        await ExpectErrorAsync(() => client.SendAsync(new { type = "provide_input", task_id = mine, request_id = "req_nope", input = "x" }), "not_pending");
        await ExpectErrorAsync(() => client.SendAsync(new { type = "resume", task_id = otherTask, after_seq = 0 }), "task_not_found");
        await ExpectErrorAsync(() => client.SendAsync(new { type = "cancel", task_id = otherTask }), "task_not_found");
        await ExpectErrorAsync(() => client.SendAsync(new { type = "resume", task_id = mine, after_seq = -1 }), "invalid_frame");

        // The task is untouched by all that: it still takes its answer.
        await client.SendAsync(new { type = "provide_input", task_id = mine, request_id = asked.GetProperty("request_id").GetString(), input = "yes" });
        await client.ReceiveUntilAsync(AgentSocketClient.OfType("complete"), Wait);

        // A frame over 64 KiB closes the connection with 1009.
        await client.SendTextAsync(new string('x', 70 * 1024));
        Assert.Null(await client.ReceiveAsync(Wait));
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, client.Socket.CloseStatus);
    }

    [Fact]
    public async Task Cancel_stops_a_task_mid_tool_call_and_its_last_event_says_so()
    {
        var key = await cluster.CreateKeyAsync("tenant-cancel");
        var taskId = "slow-" + Guid.NewGuid().ToString("N")[..8];
        // The tool never answers in time: left alone, the call would end at http_get's own timeout (10 s)
        // with a tool_result, and the task would go on to complete. An error event with neither before it
        // shows the cancel stopped the task in the middle of the call, without a bound on this machine's speed.
        var slow = $"/slow-{taskId}";
        await using var client = await AgentSocketClient.ConnectAsync(cluster.Api1.BaseAddress, key);
        await client.SendAsync(Start(taskId, [new { tool = "http_get", arguments = new { url = $"{cluster.ToolBase}{slow}?delay_ms=600000" } }, new { answer = "never" }]));
        await client.ReceiveUntilAsync(AgentSocketClient.OfType("action"), Wait);
        var deadline = DateTime.UtcNow + Wait;
        while (!cluster.ToolHits.ContainsKey(slow) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20); // until the tool call is under way
        }

        Assert.True(cluster.ToolHits.ContainsKey(slow), "the tool was never called");
        var clock = Stopwatch.StartNew();
        await client.SendAsync(new { type = "cancel", task_id = taskId });
        var events = await client.ReceiveUntilAsync(AgentSocketClient.OfType("error"), Wait);
        output.WriteLine($"cancel → error event: {clock.ElapsedMilliseconds} ms");
        Assert.Equal("cancelled", events[^1].GetProperty("code").GetString());
        Assert.Equal(taskId, events[^1].GetProperty("task_id").GetString());
        Assert.DoesNotContain(events, e => TypeOf(e) is "tool_result" or "complete");
    }

    [Fact]
    public async Task The_REST_face_runs_the_same_task_with_sse_and_input()
    {
        var key = await cluster.CreateKeyAsync("tenant-rest");
        using var http = AgentCluster.Client(cluster.Api2, key);
        using var accepted = await http.PostAsJsonAsync("/v1/jobs", new
        {
            kind = "agent",
            input = new { agent = "tester", input = "Hi", metadata = new Dictionary<string, object> { ["simulator_script"] = new object[] { new { ask = "Name?" }, new { answer = "Hello" } } } },
        });
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var id = (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        var events = new List<SseEvent>();
        using (var stream = await http.GetAsync($"/v1/jobs/{id}/events", HttpCompletionOption.ResponseHeadersRead))
        using (var reader = new SseReader(await stream.Content.ReadAsStreamAsync()))
        {
            while (await reader.ReadAsync(CancellationToken.None) is { } item)
            {
                events.Add(item);
                if (item.Type == "need_input")
                {
                    break;
                }
            }
        }

        var requestId = events[^1].Data.GetProperty("request_id").GetString();
        using (var wrong = await http.PostAsJsonAsync($"/v1/jobs/{id}/input", new { request_id = "req_other", input = "x" }))
        {
            Assert.Equal(HttpStatusCode.Conflict, wrong.StatusCode);
        }

        using (var answer = await http.PostAsJsonAsync($"/v1/jobs/{id}/input", new { request_id = requestId, input = "Ada" }))
        {
            Assert.Equal(HttpStatusCode.Accepted, answer.StatusCode);
        }

        using (var stream = await http.GetAsync($"/v1/jobs/{id}/events", HttpCompletionOption.ResponseHeadersRead))
        {
            using var reader = new SseReader(await stream.Content.ReadAsStreamAsync());
            using var timeout = new CancellationTokenSource(Wait);
            var all = await reader.ReadToEndAsync(timeout.Token);
            Assert.Equal(Enumerable.Range(1, all.Count).Select(i => (long)i), all.Select(e => e.Id));
            Assert.Equal(["task_started", "need_input", "complete"], all.Select(e => e.Type));
            Assert.All(all, e => Assert.Equal(e.Id, e.Data.GetProperty("seq").GetInt64()));
            Assert.Equal("Hello", all[^1].Data.GetProperty("output").GetString());
        }

        var job = await http.GetFromJsonAsync<JsonElement>($"/v1/jobs/{id}");
        Assert.Equal("completed", job.GetProperty("status").GetString());
        Assert.Equal("Hello", job.GetProperty("result").GetProperty("output").GetString());
    }

    [Fact]
    public async Task Tickets_open_one_session_each_and_the_upgrade_needs_a_key_or_ticket()
    {
        var key = await cluster.CreateKeyAsync("tenant-tickets");
        using var http = AgentCluster.Client(cluster.Api1, key);
        using var issued = await http.PostAsync("/v1/agents/tickets", null);
        var ticket = (await issued.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ticket").GetString()!;

        await using (var browser = await AgentSocketClient.ConnectAsync(cluster.Api2.BaseAddress, key: null, ticket: ticket))
        {
            await browser.SendAsync(new { type = "ping" });
            Assert.Equal("pong", TypeOf((await browser.ReceiveAsync(Wait))!.Value));
        }

        Assert.Equal(401, await AgentSocketClient.RefusalAsync(cluster.Api1.BaseAddress, key: null, ticket: ticket));
        Assert.Equal(401, await AgentSocketClient.RefusalAsync(cluster.Api1.BaseAddress, key: null));
        Assert.Equal(401, await AgentSocketClient.RefusalAsync(cluster.Api1.BaseAddress, key: "sk-llm-not-a-key"));
    }

    [Fact]
    public async Task A_key_holds_a_bounded_number_of_sessions_across_replicas()
    {
        var key = await cluster.CreateKeyAsync("tenant-sessions");
        var open = new List<AgentSocketClient>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                open.Add(await AgentSocketClient.ConnectAsync(i % 2 == 0 ? cluster.Api1.BaseAddress : cluster.Api2.BaseAddress, key));
            }

            Assert.Equal(429, await AgentSocketClient.RefusalAsync(cluster.Api2.BaseAddress, key));
            await open[0].DisposeAsync();
            open.RemoveAt(0);
            await Task.Delay(500);
            Assert.Null(await AgentSocketClient.RefusalAsync(cluster.Api1.BaseAddress, key));
        }
        finally
        {
            foreach (var client in open)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Revoking_the_key_ends_its_session_on_another_replica_with_an_error_then_a_close()
    {
        var (id, key) = await cluster.CreateKeyWithIdAsync("tenant-revoked-session");
        using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(cluster.Infrastructure.RedisConnectionString);
        var lease = $"aspirellm:streams:agents:{id:N}"; // the session's place in the key's session cap
        await using var client = await AgentSocketClient.ConnectAsync(cluster.Api2.BaseAddress, key);
        await client.SendAsync(new { type = "ping" });
        Assert.Equal("pong", TypeOf((await client.ReceiveAsync(Wait))!.Value));
        Assert.Equal(1, await redis.GetDatabase().SortedSetLengthAsync(lease));

        await cluster.RevokeKeyAsync(id); // through Api1
        var error = await client.ReceiveAsync(Wait);
        Assert.Equal("key_revoked", error!.Value.GetProperty("code").GetString());
        Assert.Null(await client.ReceiveAsync(Wait));
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, client.Socket.CloseStatus);

        // The client never answers the close: the Api ends the session on its own, which gives back its lease.
        var deadline = DateTime.UtcNow + Wait;
        while (await redis.GetDatabase().SortedSetLengthAsync(lease) > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.Equal(0, await redis.GetDatabase().SortedSetLengthAsync(lease));
        Assert.Equal(401, await AgentSocketClient.RefusalAsync(cluster.Api2.BaseAddress, key));
    }

    [Fact]
    public async Task A_task_its_client_left_is_cancelled_after_the_grace_period()
    {
        var key = await cluster.CreateKeyAsync("tenant-detach");
        var taskId = "left-" + Guid.NewGuid().ToString("N")[..8];
        await using (var client = await AgentSocketClient.ConnectAsync(cluster.Api1.BaseAddress, key))
        {
            await client.SendAsync(Start(taskId, [new { ask = "Still there?" }]));
            await client.ReceiveUntilAsync(AgentSocketClient.OfType("need_input"), Wait);
        }

        var jobId = Guid.Parse(await JobIdAsync(taskId));
        var left = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.Equal(JobStatus.Pending, (await cluster.JobAsync(jobId)).Status); // within the 3 s grace it lives on

        var job = await cluster.WaitForJobAsync(jobId, job => job.Status == JobStatus.Cancelled, TimeSpan.FromSeconds(15));
        output.WriteLine($"cancelled {left.Elapsed.TotalSeconds:F1} s after the client left (grace 3 s, sweep every 2 s)");
        await using var again = await AgentSocketClient.ConnectAsync(cluster.Api2.BaseAddress, key);
        await again.SendAsync(new { type = "resume", task_id = taskId, after_seq = 0 });
        var events = await again.ReceiveUntilAsync(e => TypeOf(e) == "error", Wait);
        Assert.Equal("cancelled", events[^1].GetProperty("code").GetString());
        Assert.NotNull(job.CompletedAt);
    }

    /// <summary>The job id of a task, by its client id (the job's idempotency key), through the database.</summary>
    private async Task<string> JobIdAsync(string taskId)
    {
        await using var dataSource = Npgsql.NpgsqlDataSource.Create(cluster.Infrastructure.DatabaseConnectionString);
        await using var command = dataSource.CreateCommand("SELECT id FROM jobs WHERE idempotency_key = $1");
        command.Parameters.AddWithValue(taskId);
        return ((Guid)(await command.ExecuteScalarAsync())!).ToString();
    }
}
