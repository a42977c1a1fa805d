namespace AspireLlm.Tests.Shared.FakeProviders;

/// <summary>A complete assistant text answer; <paramref name="ChunkDelay"/> paces a stream (zero = as fast as possible).</summary>
internal sealed record TextReply(string Content, TokenUsage Usage, string FinishReason, TimeSpan ChunkDelay) : FakeReply
{
    internal override async Task PlayAsync(ReplyContext context)
    {
        var pieces = StreamPieces.Words(Content);
        if (!context.Stream)
        {
            // Unstreamed, a paced reply takes as long as its stream would have.
            await Task.Delay(ChunkDelay * pieces.Count, context.RequestAborted);
            await context.WriteJsonAsync(200, context.Wire.TextCompletion(Content, FinishReason, Usage));
            return;
        }

        await context.Wire.StartStreamAsync(Usage.PromptTokens, context.RequestAborted);
        foreach (var piece in pieces)
        {
            if (ChunkDelay > TimeSpan.Zero)
            {
                await Task.Delay(ChunkDelay, context.RequestAborted);
            }

            await context.Wire.StreamTextAsync(piece, context.RequestAborted);
        }

        await context.Wire.FinishStreamAsync(FinishReason, Usage, context.RequestAborted);
    }
}
