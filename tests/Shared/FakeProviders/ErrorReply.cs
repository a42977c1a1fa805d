using System.Globalization;

namespace AspireLlm.Tests.Shared.FakeProviders;

/// <summary>An HTTP error answered before any stream starts, as both providers do for rate limits and outages.</summary>
internal sealed record ErrorReply(int Status, int? RetryAfterSeconds, string? Code, string? Message) : FakeReply
{
    internal override Task PlayAsync(ReplyContext context)
    {
        if (RetryAfterSeconds is { } seconds)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        }

        return context.WriteJsonAsync(Status, context.Wire.ErrorBody(Status, Code, Message));
    }
}
