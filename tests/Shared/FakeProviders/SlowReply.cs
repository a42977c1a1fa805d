namespace AspireLlm.Tests.Shared.FakeProviders;

/// <summary>Silence before the answer: a slow first byte, as an overloaded provider gives.</summary>
internal sealed record SlowReply(TimeSpan Delay, FakeReply Then) : FakeReply
{
    internal override async Task PlayAsync(ReplyContext context)
    {
        await Task.Delay(Delay, context.RequestAborted);
        await Then.PlayAsync(context);
    }
}
