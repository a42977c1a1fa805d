using System.Text.Json;
using AspireLlm.Orchestration.Jobs;
using AspireLlm.Tests.Shared;
using Xunit.Abstractions;

namespace AspireLlm.ServiceTests.Agents;

/// <summary>A Worker SIGKILLed in the middle of an agent task: another Worker continues from the checkpoint.</summary>
[Collection(AgentCollection.Name)]
public sealed class AgentFaultTests(AgentCluster cluster, ITestOutputHelper output)
{
    [Fact]
    public async Task A_worker_killed_mid_task_loses_only_the_step_in_flight_and_repeats_no_checkpointed_tool_call()
    {
        var key = await cluster.CreateKeyAsync("tenant-kill");
        var taskId = "kill-" + Guid.NewGuid().ToString("N")[..8];
        var fast = $"/fast-{taskId}";
        var slow = $"/slow-{taskId}";
        await using var client = await AgentSocketClient.ConnectAsync(cluster.Api1.BaseAddress, key);
        await client.SendAsync(new
        {
            type = "start_task", agent = "tester", input = "Fetch two pages.", task_id = taskId,
            metadata = new Dictionary<string, object>
            {
                ["simulator_script"] = new object[]
                {
                    new { tool = "http_get", arguments = new { url = cluster.ToolBase + fast } },
                    new { tool = "http_get", arguments = new { url = cluster.ToolBase + slow + "?delay_ms=4000" } },
                    new { answer = "Both fetched." },
                },
            },
        });

        var before = new List<JsonElement>();
        before.AddRange(await client.ReceiveUntilAsync(e => e.GetProperty("type").GetString() == "tool_result", TimeSpan.FromSeconds(30)));
        before.AddRange(await client.ReceiveUntilAsync(e => e.GetProperty("type").GetString() == "action", TimeSpan.FromSeconds(30)));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!cluster.ToolHits.ContainsKey(slow) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        // The second tool call is in flight: kill the Worker running the task.
        var jobId = (await cluster.WaitForJobAsync(await JobIdAsync(taskId), job => job.Worker is not null, TimeSpan.FromSeconds(5))).Id;
        var running = (await cluster.JobAsync(jobId)).Worker!;
        var pid = int.Parse(running.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture);
        using (var kill = System.Diagnostics.Process.Start("kill", ["-KILL", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill!.WaitForExitAsync();
        }

        var killed = DateTime.UtcNow;
        cluster.StartWorker();
        var after = await client.ReceiveUntilAsync(e => e.GetProperty("type").GetString() == "complete", TimeSpan.FromSeconds(60));
        output.WriteLine($"completed {(DateTime.UtcNow - killed).TotalSeconds:F1} s after the kill (invisibility timeout 8 s)");

        var all = before.Concat(after).ToList();
        output.WriteLine(string.Join("\n", all.Select(e => e.GetRawText())));
        Assert.Equal(Enumerable.Range(1, all.Count).Select(i => (long)i), all.Select(e => e.GetProperty("seq").GetInt64()));
        Assert.Equal(["task_started", "action", "tool_result", "action", "tool_result", "complete"], all.Select(e => e.GetProperty("type").GetString()));
        Assert.Equal(1, cluster.ToolHits[fast]); // checkpointed before the kill: never run again
        Assert.Equal(2, cluster.ToolHits[slow]); // in flight when the Worker died: the one step that is redone

        var job = await cluster.WaitForJobAsync(jobId, job => job.Status == JobStatus.Completed, TimeSpan.FromSeconds(10));
        Assert.NotEqual(running, job.Worker);
        Assert.Equal(1, await cluster.CountAsync("SELECT count(*) FROM usage_ledger WHERE job_id = $1", jobId));
        // Three model calls were answered and checkpointed, each charged once: the ledger holds their sum.
        var usage = job.Usage!.Value;
        Assert.Equal(all[^1].GetProperty("usage").GetProperty("total_tokens").GetInt64(), usage.GetProperty("total_tokens").GetInt64());
    }

    private async Task<Guid> JobIdAsync(string taskId)
    {
        await using var dataSource = Npgsql.NpgsqlDataSource.Create(cluster.Infrastructure.DatabaseConnectionString);
        await using var command = dataSource.CreateCommand("SELECT id FROM jobs WHERE idempotency_key = $1");
        command.Parameters.AddWithValue(taskId);
        return (Guid)(await command.ExecuteScalarAsync())!;
    }
}
