using Hangfire;

namespace AspireLlm.Orchestration.Jobs;

/// <summary>
/// The Hangfire entry point for a chat completion job. The Api enqueues it by interface with the job
/// id only; the Worker implements it. Delivery is at-least-once, so running it twice for the same id
/// must produce one result and one usage record.
/// </summary>
public interface IChatCompletionJob
{
    /// <summary>Hangfire retries (with these delays) only what the job rethrows: transient faults and shutdown.</summary>
    [AutomaticRetry(Attempts = MaxAttempts - 1, DelaysInSeconds = [2, 10, 30], OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    Task RunAsync(Guid jobId, Guid dispatchId, CancellationToken cancellationToken);

    /// <summary>Runs of one job before it is failed for good.</summary>
    public const int MaxAttempts = 4;
}
