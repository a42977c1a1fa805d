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
public sealed class FallbackChatClient(
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

    /// <summary>One call's walk down the fallback chain: its deadline, prompt counts and skip reasons.</summary>
    private sealed class CallScope : IDisposable
    {
        private readonly FallbackChatClient _owner;
        private readonly IReadOnlyList<ChatMessage> _messages;
        private readonly ModelCallContext _context;
        private readonly CancellationToken _callerToken;
        private readonly CancellationTokenSource _deadline;
        private readonly CancellationTokenSource _linked;
        private readonly List<string> _attempts = [];
        private readonly int _requestedOutput;
        private readonly ChatOptions _options;
        private int? _o200k, _cl100k;
        private TimeSpan? _retryHint;
        private int _contextSkips;
        private int _largestWindow;

        public CallScope(FallbackChatClient owner, IReadOnlyList<ChatMessage> messages, ChatOptions options, ModelCallContext context, CancellationToken callerToken)
        {
            _owner = owner;
            _messages = messages;
            _context = context;
            _callerToken = callerToken;
            var now = owner._timeProvider.GetUtcNow();
            Deadline = context.Deadline ?? now + owner._resilience.DefaultDeadline;
            var remaining = Deadline - now;
            _deadline = new CancellationTokenSource(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, owner._timeProvider);
            _linked = CancellationTokenSource.CreateLinkedTokenSource(callerToken, _deadline.Token);
            _requestedOutput = options.MaxOutputTokens ?? 0;
            _options = options;
        }

        public DateTimeOffset Deadline { get; }

        public CancellationToken Token => _linked.Token;

        public bool CallerCancelled => _callerToken.IsCancellationRequested;

        public bool DeadlinePassed => _deadline.IsCancellationRequested;

        /// <summary>The deployments to try, in order, minus those that cannot be called now.</summary>
        public IEnumerable<ModelDeployment> Candidates()
        {
            foreach (var group in _owner._route.Groups)
            {
                foreach (var deployment in group.InOrder())
                {
                    if (DeadlinePassed)
                    {
                        yield break;
                    }

                    if (deployment.Breaker.IsOpen(out var retryAfter))
                    {
                        Skip(deployment, "breaker_open", retryAfter, detail: "");
                        continue;
                    }

                    var window = deployment.Options.ContextWindow;
                    _largestWindow = Math.Max(_largestWindow, window);
                    var needed = PromptTokens(deployment) + Math.Min(_requestedOutput, deployment.Options.MaxOutputTokens);
                    if (needed > window)
                    {
                        _contextSkips++;
                        Skip(deployment, "context_window", null, $"Needs about {needed} _tokens; the window is {window}.");
                        continue;
                    }

                    yield return deployment;
                }
            }
        }

        public int PromptTokens(ModelDeployment deployment) => deployment.Encoding == TokenEncoding.Cl100k
            ? _cl100k ??= _owner._tokens.CountRequest(_messages, _options, TokenEncoding.Cl100k)
            : _o200k ??= _owner._tokens.CountRequest(_messages, _options, TokenEncoding.O200k);

        /// <summary>Opens a stream's first chunk; false (after recording why) when the next deployment should be tried.</summary>
        public async ValueTask<bool> TryOpenAsync(ModelDeployment deployment, IAsyncEnumerator<ChatResponseUpdate> stream)
        {
            try
            {
                return await stream.MoveNextAsync() ? true : throw new IOException("The stream was empty.");
            }
            catch (Exception exception)
            {
                await stream.DisposeAsync();
                if (ShouldFallBack(deployment, exception))
                {
                    return false;
                }

                if (CallerCancelled && exception is OperationCanceledException)
                {
                    _owner.RecordAbandoned(deployment, _context, PromptTokens(deployment));
                }

                if (DeadlinePassed && !CallerCancelled)
                {
                    throw Unavailable();
                }

                throw;
            }
        }

        /// <summary>Records the failure; true when another deployment may answer instead.</summary>
        public bool ShouldFallBack(ModelDeployment deployment, Exception exception)
        {
            if (CallerCancelled)
            {
                return false;
            }

            if (DeadlinePassed)
            {
                Skip(deployment, "deadline", null, "");
                return false;
            }

            var kind = FailureClassifier.Classify(exception);
            var reason = exception is BreakerOpenException ? "breaker_open" : kind switch
            {
                FailureKind.RateLimited => "rate_limited",
                FailureKind.ServerError => "server_error",
                FailureKind.Timeout => "timeout",
                FailureKind.Connection => "connection_failed",
                FailureKind.Unauthorized => "unauthorized",
                FailureKind.NotFound => "not_found",
                _ => null,
            };
            if (reason is null)
            {
                return false;
            }

            var retryAfter = (exception as BreakerOpenException)?.RetryAfter ?? FailureClassifier.RetryAfterOf(exception);
            Skip(deployment, reason, retryAfter, exception.Message);
            return true;
        }

        public Exception Unavailable()
        {
            if (_contextSkips > 0 && _contextSkips == _attempts.Count)
            {
                return new PromptTooLargeException(_owner._route.Alias, _o200k ?? _cl100k ?? 0, _largestWindow);
            }

            return new ModelUnavailableException(
                _owner._route.Alias, _attempts, _retryHint ?? DefaultRetryHint, DeadlinePassed ? "the deadline passed" : null);
        }

        private void Skip(ModelDeployment deployment, string reason, TimeSpan? retryAfter, string detail)
        {
            _attempts.Add($"{deployment.Name}: {reason}");
            _context.AddFallback(deployment.Name, reason);
            _owner._telemetry.Fallback(_owner._route.Alias, deployment.Name, reason);
            _owner._logger.FallingBack(_owner._route.Alias, deployment.Name, reason, PiiRedactor.Redact(detail));
            if (retryAfter is { } hint && hint > TimeSpan.Zero && (_retryHint is null || hint < _retryHint))
            {
                _retryHint = hint;
            }
        }

        public void Dispose()
        {
            _linked.Dispose();
            _deadline.Dispose();
        }
    }

    /// <summary>What a stream has used so far, so that a stream cut short is still charged.</summary>
    private sealed class StreamUsage(int promptTokens)
    {
        private readonly System.Text.StringBuilder _text = new();
        private UsageDetails? _providerUsage;
        private UsageDetails? _estimatedUsage;
        private bool _settled;

        public bool Finished { get; private set; }

        public decimal Cost { get; private set; }

        public void Observe(ChatResponseUpdate update)
        {
            Finished |= update.FinishReason is not null;
            foreach (var content in update.Contents)
            {
                switch (content)
                {
                    case TextContent text:
                        _text.Append(text.Text);
                        break;
                    case UsageContent usage:
                        _providerUsage = usage.Details;
                        break;
                    case FunctionCallContent call:
                        _text.Append(call.Name);
                        break;
                }
            }
        }

        public void Settle(FallbackChatClient owner, ModelDeployment deployment, ModelCallContext context)
        {
            if (_settled)
            {
                return;
            }

            _settled = true;
            var input = _providerUsage?.InputTokenCount ?? promptTokens;
            var output = _providerUsage?.OutputTokenCount ?? owner._tokens.CountText(_text.ToString(), deployment.Encoding);
            if (_providerUsage is null)
            {
                _estimatedUsage = new UsageDetails { InputTokenCount = input, OutputTokenCount = output, TotalTokenCount = input + output };
            }

            Cost = deployment.Price.CostOf(input, output);
            owner.Record(deployment, context, input, output, Cost, partial: !Finished);
        }

        /// <summary>The last update: which deployment answered and what it cost, plus our usage count if the provider sent none.</summary>
        public ChatResponseUpdate FinalUpdate(ModelDeployment deployment) => new()
        {
            Role = ChatRole.Assistant,
            Contents = _estimatedUsage is { } usage ? [new UsageContent(usage)] : [],
            AdditionalProperties = new() { [DeploymentProperty] = deployment.Name, [CostProperty] = Cost },
        };
    }
}
