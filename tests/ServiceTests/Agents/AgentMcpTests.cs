using System.Text.Json;
using AspireLlm.Tests.Shared;

namespace AspireLlm.ServiceTests.Agents;

/// <summary>Tools of an MCP server registered in configuration: our sample server, in its own process, over Streamable HTTP.</summary>
[Collection(AgentCollection.Name)]
public sealed class AgentMcpTests(AgentCluster cluster)
{
    [Fact]
    public async Task An_agent_calls_the_tools_of_a_registered_MCP_server_and_relays_their_results()
    {
        var key = await cluster.CreateKeyAsync("tenant-mcp");
        var taskId = "mcp-" + Guid.NewGuid().ToString("N")[..8];
        await using var client = await AgentSocketClient.ConnectAsync(cluster.Api1.BaseAddress, key);
        await client.SendAsync(new
        {
            type = "start_task", agent = "tester", input = "Add, then count.", task_id = taskId,
            metadata = new Dictionary<string, object>
            {
                ["simulator_script"] = new object[]
                {
                    new { tool = "sample_add", arguments = new { a = 2, b = 3.5 } },
                    new { tool = "sample_count_words", arguments = new { text = "one two three" } },
                    new { tool = "sample_no_such_tool", arguments = new { } },
                    new { answer = "Done." },
                },
            },
        });

        var events = await client.ReceiveUntilAsync(AgentSocketClient.OfType("complete"), TimeSpan.FromSeconds(60));

        string? TypeOf(JsonElement item) => item.GetProperty("type").GetString();
        Assert.Equal(["sample_add", "sample_count_words", "sample_no_such_tool"], events.Where(e => TypeOf(e) == "action").Select(e => e.GetProperty("tool").GetString()));
        var results = events.Where(e => TypeOf(e) == "tool_result").ToList();
        Assert.Equal(3, results.Count);
        Assert.Equal("5.5", results[0].GetProperty("result").GetString());
        Assert.Equal("3", results[1].GetProperty("result").GetString());
        Assert.False(results[0].GetProperty("is_error").GetBoolean());
        Assert.False(results[1].GetProperty("is_error").GetBoolean());
        // A tool the server does not have is that call's error, not the task's.
        Assert.True(results[2].GetProperty("is_error").GetBoolean());
        Assert.Contains("no_such_tool", results[2].GetProperty("result").GetString());
        Assert.Equal("Done.", events[^1].GetProperty("output").GetString());
    }
}
