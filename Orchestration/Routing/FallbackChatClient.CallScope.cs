using System.Runtime.CompilerServices;
using AspireLlm.Orchestration.Pipeline;
using AspireLlm.Orchestration.Redaction;
using AspireLlm.Orchestration.Resilience;
using AspireLlm.Orchestration.Telemetry;
using AspireLlm.Orchestration.Tokens;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace AspireLlm.Orchestration.Routing;

internal sealed partial class FallbackChatClient
{
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
            ? _cl100k ??= _context.PromptTokens(_owner._tokens, _messages, _options, TokenEncoding.Cl100k, _owner._route.LargestContextWindow)
            : _o200k ??= _context.PromptTokens(_owner._tokens, _messages, _options, TokenEncoding.O200k, _owner._route.LargestContextWindow);

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
}
