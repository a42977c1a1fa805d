using System.Text.Json;

namespace AspireLlm.Orchestration.Jobs;

/// <summary>
/// A job as stored: who owns it, what it is, where it stands and what it produced. Input and result
/// are opened from their sealed columns; once the content is erased (<see cref="ContentErasedAt"/>),
/// the input is an undefined element and the result null.
/// </summary>
public sealed record JobRecord(
    Guid Id,
    string TenantId,
    Guid ApiKeyId,
    string Kind,
    string Status,
    int Progress,
    string? CurrentStep,
    JsonElement Steps,
    JsonElement Input,
    JsonElement? Result,
    JsonElement? Error,
    JsonElement? Usage,
    int Attempts,
    string? IdempotencyKey,
    byte[] RequestHash,
    string? HangfireJobId,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? CompletedAt,
    DateTimeOffset UpdatedAt,
    string? WebhookUrl,
    DateTimeOffset? CancelRequestedAt,
    string? Worker,
    int Run,
    Guid? DispatchId = null,
    DateTimeOffset? ContentErasedAt = null,
    string? TraceParent = null,
    string? TraceState = null);

/// <summary>What the Api knows when it accepts a job.</summary>
public sealed record NewJob(
    Guid Id,
    string TenantId,
    Guid ApiKeyId,
    string Kind,
    JsonElement Input,
    string? IdempotencyKey,
    byte[] RequestHash,
    DateTimeOffset CreatedAt,
    string? WebhookUrl = null,
    string? TraceParent = null,
    string? TraceState = null);

/// <summary>A job a dispatcher claimed for its queue, with the trace context of the request that created it.</summary>
public sealed record DispatchedJob(Guid Id, Guid DispatchId, string Kind, string? TraceParent, string? TraceState);

/// <summary>One charged call in the usage ledger.</summary>
public sealed record UsageEntry(string ModelAlias, string ProviderModel, int InputTokens, int OutputTokens, decimal Cost);
