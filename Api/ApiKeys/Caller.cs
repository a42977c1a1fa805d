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

    /// <summary>The authenticated key with its limits, as the authentication handler found it.</summary>
    public static ApiKeyRecord KeyOf(HttpContext context) =>
        context.Items[typeof(ApiKeyRecord)] as ApiKeyRecord ?? throw new InvalidOperationException("The request is not authenticated.");
}
