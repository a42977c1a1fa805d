using Microsoft.AspNetCore.Http;

namespace AspireLlm.Tests.Shared.FakeProviders;

/// <summary>
/// A stream that never finishes properly: after <paramref name="Chunks"/> word chunks it either drops the connection
/// (<paramref name="CutConnection"/>) or ends the HTTP response cleanly with no finish reason and no end marker.
/// </summary>
internal sealed record PartialStreamReply(string Content, int Chunks, bool CutConnection) : FakeReply
{
    private static readonly TimeSpan SettleBeforeCut = TimeSpan.FromMilliseconds(250);

    internal override async Task PlayAsync(ReplyContext context)
    {
        if (!context.Stream)
        {
            await PlayUnstreamedAsync(context);
            return;
        }

        await context.Wire.StartStreamAsync(10, context.RequestAborted);
        foreach (var piece in StreamPieces.Words(Content).Take(Chunks))
        {
            await context.Wire.StreamTextAsync(piece, context.RequestAborted);
        }

        if (CutConnection)
        {
            // Let the chunks leave Kestrel's output buffer and reach the client first: the reset that Abort() sends
            // can otherwise overtake them (or even the headers), and the test would see fewer chunks than scripted.
            await Task.Delay(SettleBeforeCut, context.RequestAborted);
            context.CutConnection();
        }
    }

    private async Task PlayUnstreamedAsync(ReplyContext context)
    {
        if (CutConnection)
        {
            context.CutConnection();
            return;
        }

        // The unstreamed twin of a truncated stream: a body that stops halfway through its JSON.
        var usage = new TokenUsage(10, StreamPieces.WordCount(Content));
        var json = context.Wire.TextCompletion(Content, "stop", usage).ToJsonString();
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(json[..(json.Length / 2)], context.RequestAborted);
    }
}
