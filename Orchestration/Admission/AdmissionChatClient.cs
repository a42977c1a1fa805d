using System.Runtime.CompilerServices;
using AspireLlm.Orchestration.Pipeline;
using AspireLlm.Orchestration.Routing;
using AspireLlm.Orchestration.Tokens;
using Microsoft.Extensions.AI;

namespace AspireLlm.Orchestration.Admission;

/// <summary>
/// Asks <see cref="IModelAdmission"/> before the call, with the worst case the call could cost,
/// and settles with what it really cost afterwards — also when it failed or was cancelled part
/// way, since the tokens a provider produced are billed either way.
/// </summary>
internal sealed class AdmissionChatClient(IChatClient inner, AliasRoute route, IModelAdmission admission, TokenCounter tokens)
    : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var (callOptions, context) = ModelCallContext.Ensure(options);
        var messageList = messages as IReadOnlyList<ChatMessage> ?? [.. messages];
        await using var lease = await admission.AdmitAsync(await EstimateAsync(messageList, callOptions, context, streamed: false, cancellationToken), cancellationToken);
        try
        {
            return await base.GetResponseAsync(messageList, callOptions, cancellationToken);
        }
        finally
        {
            await SettleAsync(lease, context);
        }
    }

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var (callOptions, context) = ModelCallContext.Ensure(options);
        var messageList = messages as IReadOnlyList<ChatMessage> ?? [.. messages];
        await using var lease = await admission.AdmitAsync(await EstimateAsync(messageList, callOptions, context, streamed: true, cancellationToken), cancellationToken);
        try
        {
            await foreach (var update in base.GetStreamingResponseAsync(messageList, callOptions, cancellationToken))
            {
                yield return update;
            }
        }
        finally
        {
            await SettleAsync(lease, context);
        }
    }

    /// <summary>The estimate; a very large prompt waits its turn to be counted (<see cref="LargePromptGate"/>).</summary>
    private ValueTask<AdmissionRequest> EstimateAsync(
        IReadOnlyList<ChatMessage> messages, ChatOptions options, ModelCallContext context, bool streamed, CancellationToken cancellationToken) =>
        LargePromptGate.RunAsync(LargePromptGate.CharactersOf(messages, options), () => Estimate(messages, options, context, streamed), cancellationToken);

    private AdmissionRequest Estimate(IReadOnlyList<ChatMessage> messages, ChatOptions options, ModelCallContext context, bool streamed)
    {
        var deployments = route.Deployments;
        // Deployments clamp output to their own maximum, so no call can produce more than the largest of those.
        var deploymentMax = deployments.Max(d => d.Options.MaxOutputTokens);
        var maxOutput = Math.Min(options.MaxOutputTokens ?? deploymentMax, deploymentMax);
        var prompt = context.PromptTokens(tokens, messages, options, deployments[0].Encoding, route.LargestContextWindow);
        var worstCost = deployments.Max(d => d.Price.CostOf(prompt, Math.Min(maxOutput, d.Options.MaxOutputTokens)));

        // A structured-output answer that is not streamed may need a repair call: the prompt again plus
        // the first answer as input, and a second answer: 2p + m in, 2m out at worst.
        return options.ResponseFormat is ChatResponseFormatJson && !streamed
            ? new AdmissionRequest(context.Tenant, route.Alias, 2 * prompt + maxOutput, 2 * maxOutput,
                2 * worstCost + deployments.Max(d => d.Price.CostOf(maxOutput, 0)), context.Principal)
            : new AdmissionRequest(context.Tenant, route.Alias, prompt, maxOutput, worstCost, context.Principal);
    }

    private static async ValueTask SettleAsync(IAdmissionLease lease, ModelCallContext context)
    {
        if (context.InputTokens > 0 || context.OutputTokens > 0)
        {
            // Not the caller's token: a caller that went away must still be charged.
            await lease.SettleAsync(context.InputTokens, context.OutputTokens, context.Cost, CancellationToken.None);
        }
    }
}
