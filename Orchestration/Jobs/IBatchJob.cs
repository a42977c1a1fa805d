using Hangfire;

namespace AspireLlm.Orchestration.Jobs;

/// <summary>
/// The Hangfire entry point for a batch job: a list of chat requests run with bounded concurrency.
/// Finished items are kept, so a batch re-run after a crash continues where it stopped.
/// </summary>
public interface IBatchJob
{
    [AutomaticRetry(Attempts = IChatCompletionJob.MaxAttempts - 1, DelaysInSeconds = [2, 10, 30], OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    Task RunAsync(Guid jobId, Guid dispatchId, CancellationToken cancellationToken);
}
