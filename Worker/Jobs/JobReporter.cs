using AspireLlm.Orchestration.Jobs;
using AspireLlm.Orchestration.Jobs.Events;
using StackExchange.Redis;

namespace AspireLlm.Worker.Jobs;

/// <summary>
/// Publishes a job's events for live watchers. The job's state of record is in Postgres; events are
/// the live view of it, so a Redis failure here is logged and the job carries on.
/// </summary>
internal sealed partial class JobReporter(JobEventLog events, JobStore store, TimeProvider timeProvider, ILogger<JobReporter> logger)
{
    public Task StatusAsync(Guid jobId, string status, int? attempt = null, System.Text.Json.JsonElement? error = null, int? run = null) =>
        PublishAsync(jobId, JobEvent.ForStatus(status, timeProvider.GetUtcNow(), attempt, error) with { Run = run });

    /// <summary>
    /// A status change of <paramref name="job"/>. An agent task's log carries only the agent protocol's
    /// events (its own step events and one final event), so its status changes are not published.
    /// </summary>
    public Task StatusAsync(JobRecord job, string status, int? attempt = null, int? run = null) =>
        job.Kind == JobKinds.Agent ? Task.CompletedTask : StatusAsync(job.Id, status, attempt, run: run);

    /// <summary>A job just completed: a <c>completed</c> status, or for an agent task its <c>complete</c> event.</summary>
    public Task CompletedAsync(JobRecord job) => job.Kind == JobKinds.Agent ? FinalAsync(job.Id) : StatusAsync(job.Id, JobStatus.Completed);

    /// <summary>Appends an agent task's event (with the next id in its log).</summary>
    public Task AgentEventAsync(Guid jobId, Orchestration.Agents.AgentEvent agentEvent) =>
        PublishQuietlyAsync(jobId, agentEvent.Type, () => events.AppendAsync(jobId, agentEvent.ToUtf8()));

    public Task TokenAsync(Guid jobId, string text) =>
        PublishAsync(jobId, new JobEvent(JobEvent.TokenType, timeProvider.GetUtcNow(), Text: text));

    /// <summary>Stores progress for pollers and publishes it for watchers.</summary>
    public async Task ProgressAsync(Guid jobId, int progress, string step, CancellationToken cancellationToken)
    {
        await store.ReportProgressAsync(jobId, progress, step, timeProvider.GetUtcNow(), cancellationToken);
        await PublishAsync(jobId, new JobEvent(JobEvent.ProgressType, timeProvider.GetUtcNow(), Progress: progress, Step: step));
    }

    /// <summary>Publishes the job's final state as stored (status, and error if any).</summary>
    public async Task FinalAsync(Guid jobId)
    {
        var job = await store.GetAsync(jobId, CancellationToken.None);
        if (job is not null && JobStatus.IsFinal(job.Status))
        {
            if (job.Kind == JobKinds.Agent)
            {
                await AgentEventAsync(jobId, Orchestration.Agents.AgentEvent.FinalOf(job));
                return;
            }

            await StatusAsync(jobId, job.Status, error: job.Error);
        }
    }

    private Task PublishAsync(Guid jobId, JobEvent jobEvent) =>
        PublishQuietlyAsync(jobId, jobEvent.Type, () => events.AppendAsync(jobId, jobEvent));

    private async Task PublishQuietlyAsync(Guid jobId, string type, Func<Task> publish)
    {
        try
        {
            await publish();
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            LogPublishFailed(logger, jobId, type, exception);
        }
    }

    [LoggerMessage(3301, LogLevel.Warning, "Could not publish a {EventType} event of job {JobId}.")]
    private static partial void LogPublishFailed(ILogger logger, Guid jobId, string eventType, Exception exception);
}
