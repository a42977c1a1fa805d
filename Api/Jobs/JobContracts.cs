using System.Text.Json;
using AspireLlm.Orchestration.Jobs;

namespace AspireLlm.Api.Jobs;

/// <summary>The 202 body: enough to poll. Replayed unchanged for an idempotent resubmission.</summary>
public sealed record JobAccepted(Guid Id, string Object, string Kind, string Status, DateTimeOffset CreatedAt);

/// <summary>A job as its owner sees it. <c>ContentErasedAt</c>: when its input and result were erased (DELETE or retention).</summary>
public sealed record JobView(
    Guid Id,
    string Object,
    string Kind,
    string Status,
    int Progress,
    string? CurrentStep,
    JsonElement Steps,
    JsonElement? Result,
    JsonElement? Error,
    JsonElement? Usage,
    int Attempts,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? CompletedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? ContentErasedAt = null)
{
    public static JobView From(JobRecord job) => new(
        job.Id, "job", job.Kind, job.Status, job.Progress, job.CurrentStep, job.Steps, job.Result, job.Error, job.Usage,
        job.Attempts, job.CreatedAt, job.StartedAt, job.CompletedAt, job.UpdatedAt, job.ContentErasedAt);
}

/// <summary>One job for operators: state, step log, error and usage, and who ran it; not the input or result.</summary>
public sealed record AdminJobDetail(
    Guid Id, string TenantId, string Kind, string Status, int Progress, string? CurrentStep, JsonElement Steps,
    JsonElement? Error, JsonElement? Usage, int Attempts, int Run, string? Worker, bool CancelRequested,
    DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? CompletedAt, DateTimeOffset UpdatedAt)
{
    public static AdminJobDetail From(JobRecord job) => new(
        job.Id, job.TenantId, job.Kind, job.Status, job.Progress, job.CurrentStep, job.Steps, job.Error, job.Usage,
        job.Attempts, job.Run, job.Worker, job.CancelRequestedAt is not null, job.CreatedAt, job.StartedAt, job.CompletedAt, job.UpdatedAt);
}

/// <summary>A job in the operators' list: the tenant is shown, the input and result are not.</summary>
public sealed record AdminJobView(
    Guid Id, string TenantId, string Kind, string Status, int Progress, string? CurrentStep, int Attempts,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, int Run = 1, DateTimeOffset? CompletedAt = null)
{
    public static AdminJobView From(JobRecord job) => new(
        job.Id, job.TenantId, job.Kind, job.Status, job.Progress, job.CurrentStep, job.Attempts, job.CreatedAt, job.UpdatedAt, job.Run, job.CompletedAt);

    public static AdminJobView From(JobListItem job) => new(
        job.Id, job.TenantId, job.Kind, job.Status, job.Progress, job.CurrentStep, job.Attempts, job.CreatedAt, job.UpdatedAt, job.Run, job.CompletedAt);
}
