using Hangfire;

namespace AspireLlm.Orchestration.Jobs;

/// <summary>
/// The Hangfire entry point for an index job: one uploaded document chunked, embedded and indexed, or a
/// collection's vector index rebuilt from Postgres. Idempotent: a second run changes nothing a first
/// one finished, and finishes what a crashed one left.
/// </summary>
public interface IIndexJob
{
    [AutomaticRetry(Attempts = IChatCompletionJob.MaxAttempts - 1, DelaysInSeconds = [2, 10, 30], OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    Task RunAsync(Guid jobId, Guid dispatchId, CancellationToken cancellationToken);
}
