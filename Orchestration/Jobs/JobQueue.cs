using Hangfire;
using Hangfire.States;

namespace AspireLlm.Orchestration.Jobs;

/// <summary>Puts a job id on its kind's Hangfire queue; used by the Api and by the Worker's sweep.</summary>
public static class JobQueue
{
    public static string Enqueue(IBackgroundJobClient client, Guid jobId, string kind) =>
        client.Create<IChatCompletionJob>(
            job => job.RunAsync(jobId, CancellationToken.None),
            new EnqueuedState(JobKinds.Queues[kind]));
}
