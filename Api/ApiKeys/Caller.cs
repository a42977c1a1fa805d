using System.Security.Claims;

namespace AspireLlm.Api.ApiKeys;

/// <summary>Who is calling: the tenant whose data the request may touch, and the key it used.</summary>
public sealed record Caller(string TenantId, Guid KeyId, bool IsAdmin)
{
    public const string TenantClaim = "tenant";
    public const string KeyIdClaim = "key_id";
    public const string AdminRole = "admin";

    public static Caller From(ClaimsPrincipal user) => new(
        user.FindFirstValue(TenantClaim) ?? throw new InvalidOperationException("The request is not authenticated."),
        Guid.Parse(user.FindFirstValue(KeyIdClaim)!),
        user.IsInRole(AdminRole));
}
