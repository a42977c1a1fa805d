namespace AspireLlm.Api.Audit;

/// <summary>The actions the audit log records; the values are what <c>GET /v1/admin/audit?action=</c> filters on.</summary>
public static class AuditActions
{
    public const string KeyCreate = "key.create";
    public const string KeyUpdate = "key.update";
    public const string KeyRevoke = "key.revoke";

    /// <summary>The system stored or restored the configured bootstrap admin key at start.</summary>
    public const string KeyBootstrap = "key.bootstrap";

    /// <summary>The system revoked a previous bootstrap key because another one is configured now.</summary>
    public const string KeyRotate = "key.rotate";

    public const string TenantLimits = "tenant.limits";
    public const string TenantKeyDefaults = "tenant.key_defaults";
    public const string JobCancel = "job.cancel";
    public const string JobRetry = "job.retry";
    public const string LoginSuccess = "login.success";
    public const string LoginFailure = "login.failure";

    public static string KeyTarget(Guid id) => $"key:{id}";

    public static string TenantTarget(string tenantId) => $"tenant:{tenantId}";

    public static string JobTarget(Guid id) => $"job:{id}";
}
