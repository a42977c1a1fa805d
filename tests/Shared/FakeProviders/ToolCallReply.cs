namespace AspireLlm.Tests.Shared.FakeProviders;

/// <summary>The assistant asks for one tool call; streamed, the arguments arrive in fragments.</summary>
internal sealed record ToolCallReply(string Name, string ArgumentsJson, TokenUsage Usage) : FakeReply
{
    internal override async Task PlayAsync(ReplyContext context)
    {
        if (!context.Stream)
        {
            await context.WriteJsonAsync(200, context.Wire.ToolCallCompletion(Name, ArgumentsJson, Usage));
            return;
        }

        await context.Wire.StartStreamAsync(Usage.PromptTokens, context.RequestAborted);
        await context.Wire.StreamToolCallAsync(Name, ArgumentsJson, context.RequestAborted);
        await context.Wire.FinishStreamAsync("tool_calls", Usage, context.RequestAborted);
    }
}
