using AspireLlm.Api.ApiKeys;
using AspireLlm.Orchestration.Agents;
using AspireLlm.Orchestration.Jobs;
using Microsoft.Extensions.Options;

namespace AspireLlm.Api.Jobs;

/// <summary>Why a job was not accepted; null when it was (or an idempotent replay was found).</summary>
public enum Refusal
{
    None,
    ModelNotAllowed,
    TooManyPending,
    TooManyTasks,
    IdempotencyKeyReused,
}

/// <summary>The answer to a submission: the stored job, whether this call created it, or why not.</summary>
public sealed record Acceptance(JobRecord? Job, bool Created, Refusal Refusal, string? Detail = null);

/// <summary>
/// Accepting a job, for <c>POST /v1/jobs</c> and an agent WebSocket's <c>start_task</c> alike: the key's
/// allowed models, its caps (pending jobs; running agent tasks), the first event, the row (whose NOTIFY
/// wakes the dispatchers) and idempotent replays. The Api never runs or enqueues the job itself.
/// </summary>
public sealed class JobAcceptance(
    JobStore store, AgentStore agents, JobNotifications notifications, IOptions<JobLimitsOptions> jobLimits, IOptions<AgentOptions> agentOptions,
    TimeProvider timeProvider, Observability.ApiTelemetry telemetry)
{
    public async Task<Acceptance> AcceptAsync(
        ApiKeyRecord key, JobRequest request, string? idempotencyKey, byte[] requestHash, CancellationToken cancellationToken)
    {
        if (request.Models.Select(model => model.Alias).FirstOrDefault(alias => !key.Limits.Allows(alias)) is { } refused)
        {
            return new Acceptance(null, false, Refusal.ModelNotAllowed, $"This API key may not use the model '{refused}'.");
        }

        var limits = jobLimits.Value;
        if (request.Kind == JobKinds.Agent && await agents.CountActiveAsync(key.Id, cancellationToken) >= agentOptions.Value.MaxTasksPerKey
            && (idempotencyKey is null || await store.GetByIdempotencyKeyAsync(key.Id, idempotencyKey, cancellationToken) is null))
        {
            return new Acceptance(null, false, Refusal.TooManyTasks,
                $"This API key already has {agentOptions.Value.MaxTasksPerKey} agent tasks pending, running or waiting for input.");
        }

        var jobId = Guid.CreateVersion7();
        // The row carries this span's context: the Worker's dispatch and run continue this trace.
        using var accept = Observability.ApiTelemetry.StartAccept(jobId, request.Kind);
        var trace = System.Diagnostics.Activity.Current;
        // The stream's first event goes out before the row commits: the row's NOTIFY can start the
        // job at once, and its first event must come first. (If the insert turns out to be an
        // idempotent replay, the event belongs to an id nobody can read.)
        await notifications.AcceptedAsync(jobId, request.Kind, request.Kind == JobKinds.Agent ? Started(jobId, request, idempotencyKey) : null);
        var job = new NewJob(
            jobId, key.TenantId, key.Id, request.Kind, request.Input, idempotencyKey, requestHash, timeProvider.GetUtcNow(), request.WebhookUrl,
            trace?.Id, trace?.TraceStateString);

        var (stored, created) = await store.CreateAsync(job, limits.MaxPendingPerKey, cancellationToken);
        if (stored is null)
        {
            return new Acceptance(null, false, Refusal.TooManyPending,
                $"This API key already has {limits.MaxPendingPerKey} jobs waiting to start; submit more as they start.");
        }

        if (!created && !IdempotencyKeys.SameRequest(stored.RequestHash, job.RequestHash))
        {
            return new Acceptance(stored, false, Refusal.IdempotencyKeyReused, "This key was already used with a different request.");
        }

        if (created)
        {
            telemetry.JobAccepted(stored.Kind);
        }

        return new Acceptance(stored, created, Refusal.None);
    }

    private AgentEvent Started(Guid jobId, JobRequest request, string? idempotencyKey)
    {
        var input = JobInputs.Agent(request.Input);
        var model = input.Model ?? agentOptions.Value.Definitions[input.Agent].Model;
        return new AgentEvent(AgentEvent.TaskStarted, idempotencyKey ?? jobId.ToString(), timeProvider.GetUtcNow()) { JobId = jobId, Agent = input.Agent, Model = model };
    }
}
