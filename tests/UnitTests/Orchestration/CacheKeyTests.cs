using System.Text.Json;
using AspireLlm.Orchestration.Caching;
using AspireLlm.Orchestration.Pipeline;
using Microsoft.Extensions.AI;

namespace AspireLlm.UnitTests.Orchestration;

public sealed class CacheKeyTests
{
    private static readonly List<ChatMessage> Messages =
    [
        new(ChatRole.System, "Be brief."),
        new(ChatRole.User, "Weather in Paris?") { AuthorName = "ann" },
    ];

    private static string Key(ChatOptions? options, string tenant = "t1", string alias = "gpt-4o-mini", IEnumerable<ChatMessage>? messages = null) =>
        CacheKey.Compute(tenant, alias, messages ?? Messages, options);

    private static ChatOptions Base() => new()
    {
        Temperature = 0,
        MaxOutputTokens = 100,
        ResponseFormat = ChatResponseFormat.ForJsonSchema(JsonDocument.Parse("""{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"number"}}}""").RootElement),
        Tools = [AIFunctionFactory.CreateDeclaration("lookup", "Looks up", JsonDocument.Parse("""{"type":"object","properties":{"x":{"type":"string"},"y":{"type":"integer"}}}""").RootElement)],
        AdditionalProperties = new() { ["logit_bias"] = JsonDocument.Parse("""{"50256":-100,"1":2}""").RootElement },
    };

    [Fact]
    public void Json_property_order_does_not_matter()
    {
        var reordered = Base();
        reordered.ResponseFormat = ChatResponseFormat.ForJsonSchema(JsonDocument.Parse("""{"properties":{"b":{"type":"number"},"a":{"type":"string"}},"type":"object"}""").RootElement);
        reordered.Tools = [AIFunctionFactory.CreateDeclaration("lookup", "Looks up", JsonDocument.Parse("""{"properties":{"y":{"type":"integer"},"x":{"type":"string"}},"type":"object"}""").RootElement)];
        reordered.AdditionalProperties = new() { ["logit_bias"] = JsonDocument.Parse("""{"1":2,"50256":-100}""").RootElement };

        Assert.Equal(Key(Base()), Key(reordered));
    }

    [Fact]
    public void Tool_call_arguments_are_keyed_by_content_not_order()
    {
        ChatMessage Call(params (string, object?)[] arguments) =>
            new(ChatRole.Assistant, [new FunctionCallContent("c1", "lookup", arguments.ToDictionary(a => a.Item1, a => a.Item2))]);

        Assert.Equal(Key(null, messages: [.. Messages, Call(("x", "1"), ("y", 2))]), Key(null, messages: [.. Messages, Call(("y", 2), ("x", "1"))]));
        Assert.NotEqual(Key(null, messages: [.. Messages, Call(("x", "1"))]), Key(null, messages: [.. Messages, Call(("x", "2"))]));
    }

    public static TheoryData<string> Changes => new()
    {
        "temperature", "top_p", "top_k", "max_output_tokens", "frequency_penalty", "presence_penalty", "seed", "stop",
        "response_format", "tools", "tool_mode", "instructions", "extra", "allow_multiple_tool_calls", "conversation_id",
    };

    [Theory]
    [MemberData(nameof(Changes))]
    public void Every_generation_parameter_changes_the_key(string parameter)
    {
        var changed = Base();
        Action change = parameter switch
        {
            "temperature" => () => changed.Temperature = 0.2f,
            "top_p" => () => changed.TopP = 0.9f,
            "top_k" => () => changed.TopK = 5,
            "max_output_tokens" => () => changed.MaxOutputTokens = 101,
            "frequency_penalty" => () => changed.FrequencyPenalty = 0.5f,
            "presence_penalty" => () => changed.PresencePenalty = 0.5f,
            "seed" => () => changed.Seed = 42,
            "stop" => () => changed.StopSequences = ["END"],
            "response_format" => () => changed.ResponseFormat = ChatResponseFormat.Json,
            "tools" => () => changed.Tools = [],
            "tool_mode" => () => changed.ToolMode = ChatToolMode.RequireAny,
            "instructions" => () => changed.Instructions = "Answer in French.",
            "extra" => () => changed.AdditionalProperties!["user"] = "u-1",
            "allow_multiple_tool_calls" => () => changed.AllowMultipleToolCalls = false,
            "conversation_id" => () => changed.ConversationId = "conv-1",
            _ => throw new ArgumentException(parameter),
        };
        change();

        Assert.NotEqual(Key(Base()), Key(changed));
    }

    [Fact]
    public void Every_part_of_a_message_changes_the_key()
    {
        var baseline = Key(null);
        Assert.NotEqual(baseline, Key(null, messages: [Messages[0], new(ChatRole.User, "Weather in Lyon?") { AuthorName = "ann" }]));
        Assert.NotEqual(baseline, Key(null, messages: [Messages[0], new(ChatRole.User, "Weather in Paris?") { AuthorName = "bob" }]));
        Assert.NotEqual(baseline, Key(null, messages: [Messages[0], new(ChatRole.Assistant, "Weather in Paris?") { AuthorName = "ann" }]));
        Assert.NotEqual(baseline, Key(null, messages: [Messages[1], Messages[0]]));
    }

    [Fact]
    public void Tenants_and_aliases_never_share_keys()
    {
        Assert.NotEqual(Key(Base(), tenant: "t1"), Key(Base(), tenant: "t2"));
        Assert.NotEqual(Key(Base(), alias: "gpt-4o-mini"), Key(Base(), alias: "claude-sonnet"));
    }

    [Fact]
    public void The_call_context_is_not_part_of_the_key()
    {
        var withContext = Base().WithCallContext(new ModelCallContext("t1", DateTimeOffset.UtcNow));

        Assert.Equal(Key(Base()), Key(withContext));
    }

    [Fact]
    public void Equal_numbers_written_differently_are_one_key()
    {
        var a = Base();
        a.AdditionalProperties!["n"] = JsonDocument.Parse("1.0").RootElement;
        var b = Base();
        b.AdditionalProperties!["n"] = JsonDocument.Parse("1").RootElement;

        Assert.Equal(Key(a), Key(b));
    }

    [Fact]
    public void A_long_text_is_keyed_by_its_hash_and_every_character_still_counts()
    {
        // Over the long-text length, with a surrogate pair across the hash's 16 384-character pieces.
        var text = new string('a', 16_383) + "😀" + new string('b', 20_000);
        List<ChatMessage> Of(string content) => [new(ChatRole.User, content)];

        Assert.Equal(Key(null, messages: Of(text)), Key(null, messages: Of(new string(text))));
        Assert.NotEqual(Key(null, messages: Of(text)), Key(null, messages: Of(text[..^1] + "c")));
        Assert.NotEqual(Key(null, messages: Of(text)), Key(null, messages: Of(text.Replace("😀", "😁", StringComparison.Ordinal))));
        Assert.NotEqual(Key(null, messages: Of(text)), Key(null, messages: Of(text + " ")));
        Assert.Equal(
            Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text))),
            AspireLlm.Orchestration.Hashing.TextHash.Sha256Hex(text));
    }
}
