using System.Runtime.CompilerServices;
using AspireLlm.Orchestration.Pipeline;
using AspireLlm.Orchestration.Tokens;
using Microsoft.Extensions.AI;
using Polly;

namespace AspireLlm.Orchestration.Resilience;

/// <summary>
/// One deployment as the pipeline uses it: its provider client, and around each attempt the
/// circuit breaker, the attempt timeout and (through Polly) the retries. A stream is retried only
/// until its first chunk; after that a failure is the caller's to see (see <see cref="Routing.FallbackChatClient"/>).
/// </summary>
public sealed class ModelDeployment
{
    private readonly IChatClient _client;
    private readonly ResiliencePipeline _retry;
    private readonly TimeProvider _timeProvider;
    private readonly Telemetry.OrchestrationTelemetry? _telemetry;

    internal ModelDeployment(
        string name, DeploymentOptions options, IChatClient client, ResiliencePipeline retry, CircuitBreaker breaker,
        TokenEncoding encoding, TimeProvider timeProvider, Telemetry.OrchestrationTelemetry? telemetry = null)
    {
        _telemetry = telemetry;
        Name = name;
        Options = options;
        _client = client;
        _retry = retry;
        Breaker = breaker;
        Encoding = encoding;
        _timeProvider = timeProvider;
        Price = new ModelPrice(options.InputPricePerMillion, options.OutputPricePerMillion);
    }

    public string Name { get; }

    public DeploymentOptions Options { get; }

    public CircuitBreaker Breaker { get; }

    public LatencyTracker Latency { get; } = new();

    public ModelPrice Price { get; }

    public TokenEncoding Encoding { get; }

    public async Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        var attempt = new Attempt(this, messages, ForProvider(options));
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(DeploymentRetry.Deadline, deadline);
        try
        {
            return await _retry.ExecuteAsync(
                static (context, attempt) => attempt.Deployment.SendAsync(attempt, context.CancellationToken), context, attempt);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>
    /// Streams the answer. Opening the stream and receiving its first chunk is retried like a
    /// whole call; later chunks are not, and their failures surface as they happen.
    /// </summary>
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options, DateTimeOffset deadline,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var attempt = new Attempt(this, messages, ForProvider(options));
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(DeploymentRetry.Deadline, deadline);
        OpenStream stream;
        try
        {
            stream = await _retry.ExecuteAsync(
                static (context, attempt) => attempt.Deployment.OpenStreamAsync(attempt, context.CancellationToken), context, attempt);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }

        await using (stream)
        {
            foreach (var held in stream.Preamble ?? [])
            {
                yield return held;
            }

            yield return stream.First;
            while (await stream.MoveNextAsync(this, cancellationToken))
            {
                yield return stream.Current;
            }
        }
    }

    private void RecordFailedAttempt(Exception judged, long started, CancellationToken cancellationToken) =>
        _telemetry?.Attempt(Name, cancellationToken.IsCancellationRequested ? "cancelled" : FailureClassifier.Classify(judged) switch
        {
            FailureKind.RateLimited => "rate_limited",
            FailureKind.ServerError => "server_error",
            FailureKind.Timeout => "timeout",
            FailureKind.Connection => "connection_failed",
            FailureKind.Unauthorized => "unauthorized",
            FailureKind.NotFound => "not_found",
            _ => "other",
        }, _timeProvider.GetElapsedTime(started));

    private ChatOptions ForProvider(ChatOptions? options)
    {
        // The provider sees the deployment's model and limits, and none of our reserved properties.
        var copy = options?.Clone() ?? new ChatOptions();
        copy.ModelId = Options.Model;
        copy.AdditionalProperties?.Remove(ModelCallContext.PropertyKey);
        if (Options.Provider != ProviderNames.Simulator)
        {
            // An agent task's simulator script is for the simulator alone.
            copy.AdditionalProperties?.Remove(Simulator.SimulatorScript.PropertyKey);
        }

        if (copy.AdditionalProperties is { Count: 0 })
        {
            copy.AdditionalProperties = null;
        }

        if (copy.MaxOutputTokens > Options.MaxOutputTokens)
        {
            copy.MaxOutputTokens = Options.MaxOutputTokens;
        }

        return copy;
    }

    private async ValueTask<ChatResponse> SendAsync(Attempt attempt, CancellationToken cancellationToken)
    {
        var probe = Acquire();
        using var timeout = new CancellationTokenSource(Options.AttemptTimeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var started = _timeProvider.GetTimestamp();
        try
        {
            var response = await _client.GetResponseAsync(attempt.Messages, attempt.Options, linked.Token);
            Breaker.OnSuccess(probe);
            Latency.Record(_timeProvider.GetElapsedTime(started));
            _telemetry?.Attempt(Name, "ok", _timeProvider.GetElapsedTime(started));
            return response;
        }
        catch (Exception exception)
        {
            var judged = Judge(exception, probe, timeout, cancellationToken);
            RecordFailedAttempt(judged, started, cancellationToken);
            if (ReferenceEquals(judged, exception))
            {
                throw;
            }

            throw judged;
        }
    }

    private async ValueTask<OpenStream> OpenStreamAsync(Attempt attempt, CancellationToken cancellationToken)
    {
        var probe = Acquire();
        var timeout = new CancellationTokenSource(Options.AttemptTimeout, _timeProvider);
        var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var started = _timeProvider.GetTimestamp();
        var enumerator = _client.GetStreamingResponseAsync(attempt.Messages, attempt.Options, linked.Token).GetAsyncEnumerator(linked.Token);
        try
        {
            // Updates without content (OpenAI's opening role-only chunk) are held back: until real
            // content arrives, a failure can still move the call to another deployment unseen.
            List<ChatResponseUpdate>? preamble = null;
            while (true)
            {
                if (!await enumerator.MoveNextAsync())
                {
                    throw new IOException($"Deployment '{Name}' closed the stream without sending an answer.");
                }

                if (HasSubstance(enumerator.Current))
                {
                    break;
                }

                (preamble ??= []).Add(enumerator.Current);
            }

            Breaker.OnSuccess(probe);
            Latency.Record(_timeProvider.GetElapsedTime(started));
            _telemetry?.Attempt(Name, "ok", _timeProvider.GetElapsedTime(started));
            return new OpenStream(enumerator, preamble, enumerator.Current, timeout, linked);
        }
        catch (Exception exception)
        {
            var judged = Judge(exception, probe, timeout, cancellationToken);
            RecordFailedAttempt(judged, started, cancellationToken);
            await enumerator.DisposeAsync();
            linked.Dispose();
            timeout.Dispose();
            if (ReferenceEquals(judged, exception))
            {
                throw;
            }

            throw judged;
        }
    }

    /// <summary>Real content or the end of the answer; not the role-only, empty-text opening chunk.</summary>
    private static bool HasSubstance(ChatResponseUpdate update)
    {
        if (update.FinishReason is not null)
        {
            return true;
        }

        foreach (var content in update.Contents)
        {
            if (content is not TextContent { Text: null or "" })
            {
                return true;
            }
        }

        return false;
    }

    private bool Acquire() =>
        Breaker.TryAcquire(out var probe)
            ? probe
            : throw new BreakerOpenException(Name, Breaker.IsOpen(out var retryAfter) ? retryAfter : TimeSpan.Zero);

    /// <summary>Feeds the breaker and names the failure: a timeout of ours is not a cancellation by the caller.</summary>
    private Exception Judge(Exception exception, bool probe, CancellationTokenSource timeout, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            if (probe)
            {
                Breaker.ReleaseProbe();
            }

            return exception;
        }

        if (exception is OperationCanceledException && timeout.IsCancellationRequested)
        {
            Breaker.OnFailure(probe);
            return new AttemptTimeoutException(Name, Options.AttemptTimeout);
        }

        // Any answer that is not a transient failure, a 400 included, shows the deployment is alive.
        if (FailureClassifier.IsTransient(FailureClassifier.Classify(exception)))
        {
            Breaker.OnFailure(probe);
        }
        else
        {
            Breaker.OnSuccess(probe);
        }

        return exception;
    }

    private sealed record Attempt(ModelDeployment Deployment, IEnumerable<ChatMessage> Messages, ChatOptions Options);

    /// <summary>A stream past its first chunk; the attempt timeout now bounds the wait for each next chunk.</summary>
    private sealed class OpenStream(
        IAsyncEnumerator<ChatResponseUpdate> enumerator, List<ChatResponseUpdate>? preamble, ChatResponseUpdate first,
        CancellationTokenSource timeout, CancellationTokenSource linked)
        : IAsyncDisposable
    {
        public List<ChatResponseUpdate>? Preamble { get; } = preamble;

        public ChatResponseUpdate First { get; } = first;

        public ChatResponseUpdate Current => enumerator.Current;

        public async ValueTask<bool> MoveNextAsync(ModelDeployment deployment, CancellationToken cancellationToken)
        {
            timeout.CancelAfter(deployment.Options.AttemptTimeout);
            try
            {
                var more = await enumerator.MoveNextAsync();

                // The wait for the next chunk is the provider's; the time our caller takes with this one is not.
                timeout.CancelAfter(Timeout.InfiniteTimeSpan);
                return more;
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
            {
                // A stream that breaks mid-way counts against the deployment like any failed call.
                deployment.Breaker.OnFailure(isProbe: false);
                throw exception is OperationCanceledException && timeout.IsCancellationRequested
                    ? new AttemptTimeoutException(deployment.Name, deployment.Options.AttemptTimeout)
                    : exception;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await enumerator.DisposeAsync();
            linked.Dispose();
            timeout.Dispose();
        }
    }
}
