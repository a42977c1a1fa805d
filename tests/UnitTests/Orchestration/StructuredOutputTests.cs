using System.Text.Json;
using AspireLlm.Orchestration.StructuredOutput;
using Microsoft.Extensions.AI;
using static AspireLlm.UnitTests.Orchestration.ScriptedChatClient;

namespace AspireLlm.UnitTests.Orchestration;

public sealed class StructuredOutputTests
{
    private static readonly ChatOptions SchemaOptions = new()
    {
        ResponseFormat = ChatResponseFormat.ForJsonSchema(JsonDocument.Parse(
            """{"type":"object","properties":{"city":{"type":"string"},"celsius":{"type":"number"}},"required":["city","celsius"]}""").RootElement),
    };

    private static readonly ChatMessage[] Prompt = [new(ChatRole.User, "Weather in Paris as JSON")];

    [Fact]
    public async Task Invalid_output_is_retried_once_with_a_repair_instruction()
    {
        var provider = new ScriptedChatClient(Answer("Sure! {city: Paris}", input: 10, output: 5), Answer("""{"city":"Paris","celsius":12}""", input: 30, output: 8));
        var client = new StructuredOutputChatClient(provider);

        var response = await client.GetResponseAsync(Prompt, SchemaOptions);

        Assert.Equal("""{"city":"Paris","celsius":12}""", response.Text);
        Assert.Equal(2, provider.Calls);
        Assert.Equal((40, 13), (response.Usage!.InputTokenCount, response.Usage.OutputTokenCount));
    }

    [Fact]
    public async Task Output_that_misses_the_schema_twice_is_an_error_naming_the_problem()
    {
        var provider = new ScriptedChatClient(Answer("""{"city":"Paris"}"""));
        var client = new StructuredOutputChatClient(provider);

        var error = await Assert.ThrowsAsync<StructuredOutputException>(() => client.GetResponseAsync(Prompt, SchemaOptions));

        Assert.Equal(2, provider.Calls);
        Assert.Contains("does not match the schema", error.Message);
    }

    [Fact]
    public async Task Valid_output_passes_with_one_call()
    {
        var provider = new ScriptedChatClient(Answer("""{"celsius":12,"city":"Paris"}"""));

        await new StructuredOutputChatClient(provider).GetResponseAsync(Prompt, SchemaOptions);

        Assert.Equal(1, provider.Calls);
    }

    [Fact]
    public async Task Plain_json_mode_only_needs_valid_json()
    {
        var provider = new ScriptedChatClient(Answer("not json"), Answer("[1, 2]"));

        var response = await new StructuredOutputChatClient(provider).GetResponseAsync(Prompt, new ChatOptions { ResponseFormat = ChatResponseFormat.Json });

        Assert.Equal("[1, 2]", response.Text);
    }

    [Fact]
    public async Task A_streamed_answer_that_is_not_json_ends_with_an_error()
    {
        var provider = new ScriptedChatClient(Answer("not json at all"));
        var client = new StructuredOutputChatClient(provider);

        await Assert.ThrowsAsync<StructuredOutputException>(async () =>
        {
            await foreach (var _ in client.GetStreamingResponseAsync(Prompt, new ChatOptions { ResponseFormat = ChatResponseFormat.Json }))
            {
            }
        });
    }
}
