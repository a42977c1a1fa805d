using System.Runtime.CompilerServices;
using AspireLlm.Orchestration.Pipeline;
using AspireLlm.Orchestration.Redaction;
using AspireLlm.Orchestration.Resilience;
using AspireLlm.Orchestration.Telemetry;
using AspireLlm.Orchestration.Tokens;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace AspireLlm.Orchestration.Routing;

/// <summary>
/// The bottom of an alias's pipeline: tries its deployment groups in order, and inside a group the
/// deployments in the order its strategy picks, skipping open circuits and deployments whose
/// context window the prompt does not fit, until one answers. Every skip is logged and counted
/// with its reason. A stream moves on only before its first chunk; once a chunk is out, a failure
/// raises <see cref="StreamInterruptedException"/>. The answer carries the deployment and the cost,
/// which is also added to the call's <see cref="ModelCallContext"/>, partial usage included.
/// </summary>
internal sealed partial class FallbackChatClient(
    AliasRoute route, TokenCounter tokens, ResilienceOptions resilience, OrchestrationTelemetry telemetry, ILogger logger, TimeProvider timeProvider)
    : IChatClient
{
    private readonly AliasRoute _route = route;
    private readonly TokenCounter _tokens = tokens;
    private readonly ResilienceOptions _resilience = resilience;
    private readonly OrchestrationTelemetry _telemetry = telemetry;
    private readonly ILogger _logger = logger;
    private readonly TimeProvider _timeProvider = timeProvider;

    public const string DeploymentProperty = "aspirellm.deployment";
    public const string CostProperty = "aspirellm.cost";

    private static readonly TimeSpan DefaultRetryHint = TimeSpan.FromSeconds(5);

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var (callOptions, context) = ModelCallContext.Ensure(options);

        // An alias whose every circuit is open fails here: no exception thrown, no state machine.
        if (_route.AllOpen(out var retryAfter))
        {
            return Task.FromException<ChatResponse>(AllOpen(context, retryAfter));
        }

        return RouteAsync(messages as IReadOnlyList<ChatMessage> ?? [.. messages], callOptions, context, cancellationToken);
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var (callOptions, context) = ModelCallContext.Ensure(options);
        if (_route.AllOpen(out var allOpenRetryAfter))
        {
            throw AllOpen(context, allOpenRetryAfter);
        }

        var messageList = messages as IReadOnlyList<ChatMessage> ?? [.. messages];
        using var call = new CallScope(this, messageList, callOptions, context, cancellationToken);
        foreach (var deployment in call.Candidates())
        {
            var started = _timeProvider.GetTimestamp();
            var stream = deployment.GetStreamingResponseAsync(messageList, callOptions, call.Deadline, call.Token).GetAsyncEnumerator(call.Token);
            if (!await call.TryOpenAsync(deployment, stream))
            {
                continue;
            }

            // Committed: from here on this deployment's answer is the answer.
            _telemetry.TimeToFirstChunk(_route.Alias, deployment.Name, _timeProvider.GetElapsedTime(started));
            var usage = new StreamUsage(call.PromptTokens(deployment));
            await using (stream)
            {
                try
                {
                    usage.Observe(stream.Current);
                    yield return stream.Current;
                    while (await NextAsync(stream, deployment, call, usage))
                    {
                        usage.Observe(stream.Current);
                        yield return stream.Current;
                    }

                    if (!usage.Finished)
                    {
                        throw Interrupted(deployment, "the provider ended the stream without saying it was complete.", null);
                    }
                }
                finally
                {
                    // Whatever happened (finished, failed, or the caller went away), the _tokens spent are recorded.
                    usage.Settle(this, deployment, context);
                }
            }

            yield return usage.FinalUpdate(deployment);
            yield break;
        }

        throw call.Unavailable();
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }

    private async Task<ChatResponse> RouteAsync(
        IReadOnlyList<ChatMessage> messages, ChatOptions options, ModelCallContext context, CancellationToken cancellationToken)
    {
        using var call = new CallScope(this, messages, options, context, cancellationToken);
        foreach (var deployment in call.Candidates())
        {
            try
            {
                var response = await deployment.GetResponseAsync(messages, options, call.Deadline, call.Token);
                Settle(response, deployment, context, call.PromptTokens(deployment));
                return response;
            }
            catch (Exception exception) when (call.ShouldFallBack(deployment, exception))
            {
            }
            catch (OperationCanceledException) when (call.CallerCancelled)
            {
                RecordAbandoned(deployment, context, call.PromptTokens(deployment));
                throw;
            }
            catch (Exception) when (call.DeadlinePassed && !call.CallerCancelled)
            {
                throw call.Unavailable();
            }
        }

        throw call.Unavailable();
    }

    private void Settle(ChatResponse response, ModelDeployment deployment, ModelCallContext context, int promptTokens)
    {
        // Providers that report no usage (some OpenAI-compatible servers) are charged by our own count.
        var usage = response.Usage ??= new UsageDetails();
        usage.InputTokenCount ??= promptTokens;
        usage.OutputTokenCount ??= _tokens.CountText(response.Text, deployment.Encoding);
        usage.TotalTokenCount ??= usage.InputTokenCount + usage.OutputTokenCount;
        var cost = deployment.Price.CostOf(usage.InputTokenCount.Value, usage.OutputTokenCount.Value);
        Record(deployment, context, usage.InputTokenCount.Value, usage.OutputTokenCount.Value, cost, partial: false);
        (response.AdditionalProperties ??= [])[DeploymentProperty] = deployment.Name;
        response.AdditionalProperties[CostProperty] = cost;
    }

    /// <summary>The caller left while the provider had the request: its prompt is billed all the same.</summary>
    private void RecordAbandoned(ModelDeployment deployment, ModelCallContext context, int promptTokens) =>
        Record(deployment, context, promptTokens, 0, deployment.Price.CostOf(promptTokens, 0), partial: true);

    private void Record(ModelDeployment deployment, ModelCallContext context, long input, long output, decimal cost, bool partial)
    {
        context.AddUsage(input, output, cost, partial);
        context.Deployment = deployment.Name;
        _telemetry.Cost(_route.Alias, deployment.Name, cost);
        _telemetry.Tokens(_route.Alias, deployment.Name, input, output);
    }

    private async ValueTask<bool> NextAsync(IAsyncEnumerator<ChatResponseUpdate> stream, ModelDeployment deployment, CallScope call, StreamUsage usage)
    {
        try
        {
            return await stream.MoveNextAsync();
        }
        catch (Exception exception) when (!call.CallerCancelled)
        {
            _logger.StreamInterrupted(_route.Alias, deployment.Name, exception);
            throw Interrupted(deployment, call.DeadlinePassed ? "the deadline passed." : "the provider's stream failed.", exception);
        }
    }

    private StreamInterruptedException Interrupted(ModelDeployment deployment, string reason, Exception? inner) =>
        new(_route.Alias, deployment.Name, reason, inner);

    private ModelUnavailableException AllOpen(ModelCallContext context, TimeSpan retryAfter)
    {
        var attempts = new List<string>();
        foreach (var deployment in _route.Deployments)
        {
            context.AddFallback(deployment.Name, "breaker_open");
            _telemetry.Fallback(_route.Alias, deployment.Name, "breaker_open");
            attempts.Add($"{deployment.Name}: breaker_open");
        }

        return new ModelUnavailableException(_route.Alias, attempts, retryAfter, "every deployment's circuit is open");
    }
}
