using System.Text.Json;
using Microsoft.Extensions.AI;

namespace AspireLlm.Orchestration.Redaction;

/// <summary>
/// For aliases with <see cref="ModelAliasOptions.RedactPrompts"/>: personal data in what the prompt
/// carries is replaced by placeholders before it leaves for a provider: message text, the arguments
/// of tool calls the conversation already made, and tool results (string values inside JSON too).
/// The caller's messages are not changed; copies are sent, and only of messages that need it.
/// </summary>
internal sealed class RedactingChatClient(IChatClient inner) : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        await base.GetResponseAsync(await RedactAsync(messages, options, cancellationToken), options, cancellationToken);

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var update in base.GetStreamingResponseAsync(await RedactAsync(messages, options, cancellationToken), options, cancellationToken))
        {
            yield return update;
        }
    }

    /// <summary>Scanning costs a few microseconds a character at worst: a very large prompt waits its turn (<see cref="Tokens.LargePromptGate"/>).</summary>
    private static ValueTask<List<ChatMessage>> RedactAsync(IEnumerable<ChatMessage> messages, ChatOptions? options, CancellationToken cancellationToken)
    {
        var list = messages as IReadOnlyList<ChatMessage> ?? [.. messages];
        return Tokens.LargePromptGate.RunAsync(Tokens.LargePromptGate.CharactersOf(list, options), () => Redact(list), cancellationToken);
    }

    internal static List<ChatMessage> Redact(IEnumerable<ChatMessage> messages) =>
        [.. messages.Select(message => message.Contents.Any(NeedsRedaction)
            ? new ChatMessage(message.Role, [.. message.Contents.Select(Redact)])
            {
                AuthorName = message.AuthorName, MessageId = message.MessageId, AdditionalProperties = message.AdditionalProperties,
            }
            : message)];

    private static bool NeedsRedaction(AIContent content) => content switch
    {
        TextContent text => PiiRedactor.ContainsPii(text.Text),
        FunctionCallContent call => call.Arguments?.Values.Any(ContainsPii) == true,
        FunctionResultContent result => ContainsPii(result.Result),
        _ => false,
    };

    private static AIContent Redact(AIContent content) => content switch
    {
        TextContent text => new TextContent(PiiRedactor.Redact(text.Text)),
        FunctionCallContent { Arguments: { } arguments } call when NeedsRedaction(call) =>
            new FunctionCallContent(call.CallId, call.Name, arguments.ToDictionary(pair => pair.Key, pair => RedactValue(pair.Value)))
            {
                AdditionalProperties = call.AdditionalProperties,
            },
        FunctionResultContent result when NeedsRedaction(result) =>
            new FunctionResultContent(result.CallId, RedactValue(result.Result)) { AdditionalProperties = result.AdditionalProperties },
        _ => content,
    };

    private static bool ContainsPii(object? value) => value switch
    {
        null => false,
        string text => PiiRedactor.ContainsPii(text),
        JsonElement json => PiiJson.ContainsPii(json),
        bool or int or long or double or decimal or float => false,
        _ => PiiJson.ContainsPii(JsonSerializer.SerializeToElement(value, AIJsonUtilities.DefaultOptions)),
    };

    /// <summary>Strings are redacted; anything else structured is redacted as the JSON the provider will get.</summary>
    private static object? RedactValue(object? value) => value switch
    {
        null => null,
        string text => PiiRedactor.Redact(text),
        JsonElement json => PiiJson.Redact(json),
        bool or int or long or double or decimal or float => value,
        _ => PiiJson.Redact(JsonSerializer.SerializeToElement(value, AIJsonUtilities.DefaultOptions)),
    };
}
