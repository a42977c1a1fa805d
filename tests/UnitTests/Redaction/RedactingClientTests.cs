using System.Text.Json;
using AspireLlm.Orchestration;
using AspireLlm.Orchestration.Embeddings;
using AspireLlm.Orchestration.Redaction;
using AspireLlm.Orchestration.Telemetry;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AspireLlm.UnitTests.Redaction;

/// <summary>What an alias that asks for redaction sends to its provider: message text, tool calls, tool results, embedding inputs.</summary>
public sealed class RedactingClientTests
{
    private const string Email = "alice@example.com";

    [Fact]
    public async Task Tool_call_arguments_and_tool_results_are_redacted_before_they_leave()
    {
        var provider = new RecordingChatClient();
        var client = new RedactingChatClient(provider);
        var arguments = JsonDocument.Parse($$"""{"to": "{{Email}}", "cc": ["bob@example.org", 3], "count": 2}""").RootElement;
        ChatMessage[] messages =
        [
            new(ChatRole.User, $"Mail {Email} please"),
            new(ChatRole.Assistant, [new FunctionCallContent("call-1", "send_mail", new Dictionary<string, object?>
            {
                ["payload"] = arguments, ["note"] = $"for {Email}", ["urgent"] = true,
            })]),
            new(ChatRole.Tool, [new FunctionResultContent("call-1", $"sent to {Email} from 203.0.113.7")]),
            new(ChatRole.Tool, [new FunctionResultContent("call-2", JsonDocument.Parse($$"""{"card": "4111 1111 1111 1111"}""").RootElement)]),
        ];

        await client.GetResponseAsync(messages);

        var sent = provider.Seen!;
        Assert.Equal("Mail [EMAIL] please", sent[0].Text);
        var call = Assert.IsType<FunctionCallContent>(sent[1].Contents.Single());
        Assert.Equal("send_mail", call.Name);
        Assert.Equal("""{"to":"[EMAIL]","cc":["[EMAIL]",3],"count":2}""", ((JsonElement)call.Arguments!["payload"]!).GetRawText());
        Assert.Equal("for [EMAIL]", call.Arguments["note"]);
        Assert.Equal(true, call.Arguments["urgent"]);
        Assert.Equal("sent to [EMAIL] from [IP]", Assert.IsType<FunctionResultContent>(sent[2].Contents.Single()).Result);
        var structured = (JsonElement)Assert.IsType<FunctionResultContent>(sent[3].Contents.Single()).Result!;
        Assert.Equal("""{"card":"[CARD]"}""", structured.GetRawText());
        // The caller's messages are untouched.
        Assert.Equal($"for {Email}", ((FunctionCallContent)messages[1].Contents[0]).Arguments!["note"]);
    }

    [Fact]
    public async Task Messages_without_personal_data_are_sent_as_they_are()
    {
        var provider = new RecordingChatClient();
        ChatMessage[] messages =
        [
            new(ChatRole.Assistant, [new FunctionCallContent("c", "lookup", new Dictionary<string, object?> { ["city"] = "Paris" })]),
            new(ChatRole.Tool, [new FunctionResultContent("c", "sunny")]),
        ];

        await new RedactingChatClient(provider).GetResponseAsync(messages);

        Assert.Same(messages[0], provider.Seen![0]);
        Assert.Same(messages[1], provider.Seen[1]);
    }

    [Fact]
    public async Task Embedding_inputs_are_redacted_only_for_aliases_that_ask()
    {
        var options = OrchestrationOptions.Simulated();
        options.Deployments["sim-embed"] = new DeploymentOptions { Provider = ProviderNames.Simulator, Model = "sim-embed" };
        options.EmbeddingModels["private"] = new EmbeddingAliasOptions { Deployments = ["sim-embed"], RedactInputs = true };
        options.EmbeddingModels["plain"] = new EmbeddingAliasOptions { Deployments = ["sim-embed"] };
        var catalog = new EmbeddingCatalog(Options.Create(options), new ConfigurationBuilder().Build(), TimeProvider.System,
            new OrchestrationTelemetry(), NullLoggerFactory.Instance);

        var redacted = await catalog.GenerateAsync("private", [$"write to {Email}"], null, CancellationToken.None);
        var asSent = await catalog.GenerateAsync("plain", ["write to [EMAIL]"], null, CancellationToken.None);
        var unredacted = await catalog.GenerateAsync("plain", [$"write to {Email}"], null, CancellationToken.None);

        // The simulator's vector is a function of the text it was given.
        Assert.Equal(asSent.Embeddings[0].Vector.ToArray(), redacted.Embeddings[0].Vector.ToArray());
        Assert.NotEqual(unredacted.Embeddings[0].Vector.ToArray(), redacted.Embeddings[0].Vector.ToArray());
    }

    private sealed class RecordingChatClient : IChatClient
    {
        public List<ChatMessage>? Seen { get; private set; }

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            Seen = [.. messages];
            return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "ok")));
        }

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
            IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
