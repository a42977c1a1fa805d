using System.Text.Json;
using AspireLlm.Orchestration.Admission;
using AspireLlm.Orchestration.Agents;
using AspireLlm.Orchestration.Simulator;
using Microsoft.Extensions.AI;

namespace AspireLlm.UnitTests.Agents;

public sealed class AgentInputTests
{
    private static (AgentInput? Input, string? Param) Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var (input, errors) = AgentInput.Parse(document.RootElement, "input");
        return (input, errors.FirstOrDefault()?.Param);
    }

    [Fact]
    public void A_full_input_is_read_with_its_script()
    {
        var (input, param) = Parse("""
            {"agent":"assistant","input":"Plan it","model":"gpt-4o-mini","max_steps":5,"deadline_seconds":60,
             "metadata":{"team":"red","simulator_script":[{"thought":"hm"},{"tool":"http_get","arguments":{"url":"https://example.com"}},{"answer":"ok"}]}}
            """);
        Assert.Null(param);
        Assert.Equal(("assistant", "Plan it", "gpt-4o-mini", 5, 60), (input!.Agent, input.Input, input.Model, input.MaxSteps, input.DeadlineSeconds));
        Assert.Equal("red", input.Metadata["team"]);
        Assert.Equal(3, input.SimulatorScript!.Value.GetArrayLength());
    }

    [Theory]
    [InlineData("""{"agent":"a","input":"x","surprise":1}""", "input.surprise")]
    [InlineData("""{"input":"x"}""", "input.agent")]
    [InlineData("""{"agent":"a"}""", "input.input")]
    [InlineData("""{"agent":"a","input":""}""", "input.input")]
    [InlineData("""{"agent":"a","input":"x","max_steps":0}""", "input.max_steps")]
    [InlineData("""{"agent":"a","input":"x","deadline_seconds":1.5}""", "input.deadline_seconds")]
    [InlineData("""{"agent":"a","input":"x","metadata":{"k":1}}""", "input.metadata.k")]
    [InlineData("""{"agent":"a","input":"x","metadata":{"simulator_script":[{"dance":"x"}]}}""", "input.metadata.simulator_script[0]")]
    [InlineData("""{"agent":"a","input":"x","metadata":{"simulator_script":[{"tool":"bad name!"}]}}""", "input.metadata.simulator_script[0]")]
    [InlineData("""{"agent":"a","input":"x","metadata":{"simulator_script":"not json"}}""", "input.metadata.simulator_script")]
    public void Bad_inputs_are_refused_naming_the_field(string json, string param) => Assert.Equal(param, Parse(json).Param);

    [Fact]
    public void A_script_given_as_a_json_string_is_read_too()
    {
        var (input, param) = Parse("""{"agent":"a","input":"x","metadata":{"simulator_script":"[{\"ask\":\"Who?\"}]"}}""");
        Assert.Null(param);
        Assert.Equal(JsonValueKind.Array, input!.SimulatorScript!.Value.ValueKind);
    }

    [Fact]
    public void The_simulator_plays_one_turn_per_model_call_from_the_conversation_so_far()
    {
        using var script = JsonDocument.Parse("""
            [{"thought":"first"},{"tool":"http_get","arguments":{"url":"u"}},{"ask":"Which?"},{"thought":"done thinking"},{"answer":"42"}]
            """);
        List<ChatMessage> messages = [new(ChatRole.User, "go")];

        var turn1 = SimulatorScript.Play(script.RootElement, messages)!;
        Assert.Equal("first", Assert.IsType<TextContent>(turn1[0]).Text);
        var call = Assert.IsType<FunctionCallContent>(turn1[1]);
        Assert.Equal(("http_get", "call_1"), (call.Name, call.CallId));

        messages.Add(new ChatMessage(ChatRole.Assistant, [.. turn1]));
        var ask = Assert.IsType<FunctionCallContent>(Assert.Single(SimulatorScript.Play(script.RootElement, messages)!));
        Assert.Equal(("ask_user", "Which?"), (ask.Name, ask.Arguments!["prompt"]));

        messages.Add(new ChatMessage(ChatRole.Assistant, [ask]));
        var answer = SimulatorScript.Play(script.RootElement, messages)!;
        Assert.Equal("done thinking", Assert.IsType<TextReasoningContent>(answer[0]).Text);
        Assert.Equal("42", Assert.IsType<TextContent>(answer[1]).Text);

        messages.Add(new ChatMessage(ChatRole.Assistant, "42"));
        Assert.Null(SimulatorScript.Play(script.RootElement, messages)); // beyond the script: the simulator's usual text
    }

    [Theory]
    [InlineData(null, "http_get", true)]
    [InlineData(new[] { "ask_user" }, "http_get", false)]
    [InlineData(new[] { "ask_user", "http_get" }, "http_get", true)]
    [InlineData(new[] { "sample_*" }, "sample_add", true)]
    [InlineData(new[] { "sample_*" }, "samples_add", false)]
    public void A_keys_allowed_tools_name_tools_exactly_or_a_servers_tools(string[]? allowed, string tool, bool allows) =>
        Assert.Equal(allows, new KeyLimits(AllowedTools: allowed).AllowsTool(tool));

    [Fact]
    public void Events_go_out_with_their_number_first()
    {
        var json = new AgentEvent(AgentEvent.Thought, "t1", DateTimeOffset.UnixEpoch) { Text = "hm" }.ToString();
        using var document = JsonDocument.Parse(AgentEvent.WithSeq(json, 7));
        Assert.Equal(7, document.RootElement.GetProperty("seq").GetInt64());
        Assert.Equal("thought", document.RootElement.GetProperty("type").GetString());
        Assert.False(document.RootElement.TryGetProperty("tool", out _)); // absent fields are left out
    }
}
