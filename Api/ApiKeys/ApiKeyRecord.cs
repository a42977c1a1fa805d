using AspireLlm.Orchestration.Admission;

namespace AspireLlm.Api.ApiKeys;

/// <summary>A stored API key: the tenant it acts for, whether it may use the admin endpoints, and its limits.</summary>
public sealed record ApiKeyRecord(
    Guid Id, string TenantId, string Name, string Prefix, bool IsAdmin, DateTimeOffset? RevokedAt, KeyLimits Limits)
{
    /// <summary>The tenant-wide rate limits, shared by all of the tenant's keys.</summary>
    public TenantLimits TenantLimits { get; init; } = TenantLimits.None;

    /// <summary>The key configured as <c>Admin:BootstrapKey</c>: always valid, replaced only by configuring another.</summary>
    public bool IsBootstrap { get; init; }

    /// <summary>This key as admission charges it; a new one per call, since admission writes its snapshots into it.</summary>
    public AdmissionSubject ToSubject() => new(Id, TenantId, Limits, TenantLimits);
}
