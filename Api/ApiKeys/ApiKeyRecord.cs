namespace AspireLlm.Api.ApiKeys;

/// <summary>A stored API key: the tenant it acts for and whether it may use the admin endpoints.</summary>
public sealed record ApiKeyRecord(Guid Id, string TenantId, string Name, string Prefix, bool IsAdmin, DateTimeOffset? RevokedAt);
