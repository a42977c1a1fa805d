using AspireLlm.Api.ApiKeys;
using AspireLlm.Orchestration.Agents;
using AspireLlm.Orchestration.Jobs;
using Microsoft.Extensions.Options;

namespace AspireLlm.Api.Agents;

/// <summary>Finding a caller's agent task by the id its events carry, and answering its questions: the same for both faces.</summary>
public sealed class AgentTasks(JobStore jobs, AgentStore agents, IOptions<AgentOptions> options, TimeProvider timeProvider)
{
    /// <summary>
    /// The task <paramref name="taskId"/> names for this key: the client's own id (its start's
    /// <c>task_id</c>, kept as the job's idempotency key, so per key), or the job id (any key of the
    /// tenant). Another tenant's task, or a job that is not an agent task, is not found.
    /// </summary>
    public async Task<JobRecord?> FindAsync(ApiKeyRecord key, string taskId, CancellationToken cancellationToken)
    {
        if (taskId.Length is 0 or > 255)
        {
            return null;
        }

        var job = await jobs.GetByIdempotencyKeyAsync(key.Id, taskId, cancellationToken);
        if (job is null && Guid.TryParse(taskId, out var jobId))
        {
            job = await jobs.GetForTenantAsync(jobId, key.TenantId, cancellationToken);
        }

        return job is { Kind: JobKinds.Agent } && job.TenantId == key.TenantId ? job : null;
    }

    public Task<ProvideInputOutcome> ProvideInputAsync(JobRecord job, string requestId, string answer, CancellationToken cancellationToken) =>
        agents.ProvideInputAsync(job.Id, job.TenantId, requestId, answer, TimeSpan.FromSeconds(options.Value.InputTimeoutSeconds),
            timeProvider.GetUtcNow(), cancellationToken);
}
