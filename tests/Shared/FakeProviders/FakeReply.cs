namespace AspireLlm.Tests.Shared.FakeProviders;

/// <summary>
/// One scripted answer of the fake provider. The same reply plays on either protocol and in either mode
/// (streamed or not, as the request asks), so a test scripts behaviour, not wire bytes.
/// </summary>
public abstract record FakeReply
{
    /// <summary>A normal assistant answer. Streamed, it arrives one word per chunk.</summary>
    /// <param name="completionTokens">Defaults to the number of words.</param>
    /// <param name="finishReason">In OpenAI's words ("stop", "length"); mapped to end_turn / max_tokens for Anthropic.</param>
    public static FakeReply Text(string text, int promptTokens = 10, int? completionTokens = null, string finishReason = "stop") =>
        new TextReply(text, new TokenUsage(promptTokens, completionTokens ?? StreamPieces.WordCount(text)), finishReason, TimeSpan.Zero);

    /// <summary>An HTTP error with the provider's error body; with a Retry-After header when <paramref name="retryAfterSeconds"/> is given.</summary>
    /// <param name="code">OpenAI's error.code, or Anthropic's error.type; a fitting default by status when null.</param>
    public static FakeReply Error(int status, int? retryAfterSeconds = null, string? code = null, string? message = null) =>
        new ErrorReply(status, retryAfterSeconds, code, message);

    /// <summary>Waits before replying with <paramref name="then"/>; a client that gives up meanwhile is recorded as aborted.</summary>
    public static FakeReply Slow(TimeSpan delay, FakeReply then) => new SlowReply(delay, then);

    /// <summary>The assistant calls one tool (OpenAI tool_calls / Anthropic tool_use); arguments must be a JSON object.</summary>
    public static FakeReply ToolCall(string name, string argumentsJson, int promptTokens = 10, int completionTokens = 10) =>
        new ToolCallReply(name, argumentsJson, new TokenUsage(promptTokens, completionTokens));

    /// <summary>
    /// Streams <paramref name="chunksBeforeBreak"/> word chunks, then drops the connection: no finish reason, no end marker.
    /// Asked without streaming, it drops the connection before any response.
    /// </summary>
    public static FakeReply BrokenStream(string text, int chunksBeforeBreak) =>
        new PartialStreamReply(text, chunksBeforeBreak, CutConnection: true);

    /// <summary>
    /// Streams <paramref name="chunksBeforeEnd"/> word chunks, then ends the response cleanly but without finish reason,
    /// usage or end marker ([DONE] / message_stop). Asked without streaming, it sends a JSON body cut off halfway.
    /// </summary>
    public static FakeReply TruncatedStream(string text, int chunksBeforeEnd) =>
        new PartialStreamReply(text, chunksBeforeEnd, CutConnection: false);

    /// <summary>A text reply that waits <paramref name="perChunk"/> before each word chunk, for cancellation and timeout tests.</summary>
    public static FakeReply SlowStream(string text, TimeSpan perChunk) =>
        new TextReply(text, new TokenUsage(10, StreamPieces.WordCount(text)), "stop", perChunk);

    /// <summary>Writes this reply onto the request.</summary>
    internal abstract Task PlayAsync(ReplyContext context);
}
