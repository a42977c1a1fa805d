using Hangfire;

namespace AspireLlm.Orchestration.Jobs;

/// <summary>
/// The Hangfire entry point for an agent task. One delivery runs the task from its last checkpoint
/// until it completes, fails, or must wait (for a person's answer or a rate limit), when it hands the
/// Worker slot back and the dispatcher queues it again later. Delivered at least once: a run repeated
/// after a crash continues from the checkpoint, so no checkpointed tool call runs twice.
/// </summary>
public interface IAgentJob
{
    [AutomaticRetry(Attempts = IChatCompletionJob.MaxAttempts - 1, DelaysInSeconds = [2, 10, 30], OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    Task RunAsync(Guid jobId, Guid dispatchId, CancellationToken cancellationToken);
}
