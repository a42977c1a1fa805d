using AspireLlm.Orchestration.Telemetry;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace AspireLlm.Orchestration.Resilience;

/// <summary>
/// The Polly retry pipeline for one deployment: only transient failures, exponential backoff with
/// jitter, the provider's Retry-After when it sends one, and never past the caller's deadline (a
/// Retry-After that would end after it means "go elsewhere", not "wait").
/// </summary>
internal static class DeploymentRetry
{
    public static readonly ResiliencePropertyKey<DateTimeOffset> Deadline = new("aspirellm.deadline");

    public static ResiliencePipeline Build(
        string deployment, ResilienceOptions options, TimeProvider timeProvider, OrchestrationTelemetry telemetry, ILogger logger)
    {
        var builder = new ResiliencePipelineBuilder { TimeProvider = timeProvider };
        if (options.MaxRetries == 0)
        {
            return builder.Build();
        }

        return builder.AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = options.MaxRetries,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = options.BaseDelay,
            MaxDelay = options.MaxDelay,
            ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Outcome.Exception, args.Context, args.AttemptNumber, options, timeProvider)),
            DelayGenerator = args => ValueTask.FromResult(args.Outcome.Exception is { } exception ? FailureClassifier.RetryAfterOf(exception) : null),
            OnRetry = args =>
            {
                var kind = FailureClassifier.Classify(args.Outcome.Exception!);
                telemetry.Retry(deployment, kind);
                logger.RetryingDeployment(deployment, kind, args.AttemptNumber + 1, args.RetryDelay);
                return ValueTask.CompletedTask;
            },
        }).Build();
    }

    private static bool ShouldRetry(Exception? exception, ResilienceContext context, int attempt, ResilienceOptions options, TimeProvider timeProvider)
    {
        if (exception is null || context.CancellationToken.IsCancellationRequested
            || !FailureClassifier.IsTransient(FailureClassifier.Classify(exception)))
        {
            return false;
        }

        if (!context.Properties.TryGetValue(Deadline, out var deadline))
        {
            return true;
        }

        // The smallest wait Polly could pick is the Retry-After, or the jittered backoff's lower end.
        var wait = FailureClassifier.RetryAfterOf(exception) ?? options.BaseDelay * Math.Pow(2, attempt) * 0.5;
        return timeProvider.GetUtcNow() + wait < deadline;
    }
}
