using Hangfire;
using Hangfire.States;

namespace AspireLlm.Orchestration.Jobs;

/// <summary>Puts a job id on its kind's Hangfire queue; used by the Api and by the Worker's sweep.</summary>
public static class JobQueue
{
    public static string Enqueue(IBackgroundJobClient client, Guid jobId, Guid dispatchId, string kind)
    {
        var state = new EnqueuedState(JobKinds.Queues[kind]);
        return kind switch
        {
            JobKinds.ChatCompletion => client.Create<IChatCompletionJob>(job => job.RunAsync(jobId, dispatchId, CancellationToken.None), state),
            JobKinds.Batch => client.Create<IBatchJob>(job => job.RunAsync(jobId, dispatchId, CancellationToken.None), state),
            JobKinds.Index => client.Create<IIndexJob>(job => job.RunAsync(jobId, dispatchId, CancellationToken.None), state),
            JobKinds.Agent => client.Create<IAgentJob>(job => job.RunAsync(jobId, dispatchId, CancellationToken.None), state),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown job kind."),
        };
    }
}
