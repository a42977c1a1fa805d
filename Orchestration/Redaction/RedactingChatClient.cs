using Microsoft.Extensions.AI;

namespace AspireLlm.Orchestration.Redaction;

/// <summary>
/// For aliases with <see cref="ModelAliasOptions.RedactPrompts"/>: personal data in the prompt's
/// text is replaced by placeholders before the prompt leaves for a provider. The caller's
/// messages are not changed; copies are sent.
/// </summary>
public sealed class RedactingChatClient(IChatClient inner) : DelegatingChatClient(inner)
{
    public override Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        base.GetResponseAsync(Redact(messages), options, cancellationToken);

    public override IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        base.GetStreamingResponseAsync(Redact(messages), options, cancellationToken);

    internal static List<ChatMessage> Redact(IEnumerable<ChatMessage> messages) =>
        [.. messages.Select(message => message.Contents.Any(content => content is TextContent text && PiiRedactor.ContainsPii(text.Text))
            ? new ChatMessage(message.Role, [.. message.Contents.Select(Redact)]) { AuthorName = message.AuthorName, MessageId = message.MessageId }
            : message)];

    private static AIContent Redact(AIContent content) =>
        content is TextContent text ? new TextContent(PiiRedactor.Redact(text.Text)) : content;
}
