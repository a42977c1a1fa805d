using AspireLlm.Api.ApiKeys;
using AspireLlm.Api.Audit;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AspireLlm.Api.Admin;

public sealed record AdminLoginRequest(string? Key);

/// <summary>Who logged in: the key's id and public prefix, never the key.</summary>
public sealed record AdminLoginView(Guid KeyId, string Prefix, string TenantId);

/// <summary>
/// <c>POST /v1/admin/login</c>: checks that a key is an active admin key, for the dashboard's login
/// form, and audits every attempt. Anonymous callers are throttled by their own address. A caller
/// that is itself an admin (the dashboard, with its key) may say whose address it acts for in
/// <c>X-Forwarded-For</c>: that address is throttled and audited instead of the dashboard's own.
/// </summary>
public static partial class AdminLoginEndpoints
{
    private const int MaxKeyLength = 256;

    public static IEndpointRouteBuilder MapAdminLogin(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/v1/admin/login", LoginAsync).WithTags("Admin").WithName("AdminLogin").AllowAnonymous();
        return routes;
    }

    internal static async Task<Results<Ok<AdminLoginView>, ProblemHttpResult>> LoginAsync(
        AdminLoginRequest request, HttpContext context, ApiKeyStore keys, AuditLog audit, LoginThrottle throttle, ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        var forwardedFor = context.User.IsInRole(Caller.AdminRole) ? AuditActor.ForwardedForOf(context) : null;
        var clientAddress = AuditActor.ClientAddressOf(context);
        if (throttle.TryAttempt(forwardedFor ?? clientAddress ?? "unknown") is { } retryAfter)
        {
            LogThrottled(loggers.CreateLogger(typeof(AdminLoginEndpoints)), forwardedFor ?? clientAddress);
            context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString();
            return TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many login attempts",
                detail: "Wait before trying again (see Retry-After).");
        }

        var key = request.Key?.Trim() ?? "";
        var record = key.Length is > 0 and <= MaxKeyLength ? await keys.FindAsync(key, cancellationToken) : null;
        var success = record is { RevokedAt: null, IsAdmin: true };
        var actor = record is not null
            ? new AuditActor(record.Id, record.Prefix, clientAddress, forwardedFor)
            : new AuditActor(null, PrefixOfUnknown(key), clientAddress, forwardedFor);
        object details = success ? new { } : new { reason = record is null ? "unknown key" : record.RevokedAt is not null ? "revoked key" : "not an admin key" };
        await audit.AppendAsync(actor, success ? AuditActions.LoginSuccess : AuditActions.LoginFailure, "login", details);

        return success
            ? TypedResults.Ok(new AdminLoginView(record!.Id, record.Prefix, record.TenantId))
            : TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Login failed", detail: "That is not an active admin key.");
    }

    /// <summary>
    /// The public prefix of a key of our format (whose first characters say nothing about its secret
    /// part). For anything else, which may be a mistyped password, nothing: even a short hash of it
    /// would help someone guess it.
    /// </summary>
    private static string PrefixOfUnknown(string key) =>
        key.StartsWith(ApiKeyFormat.Prefix, StringComparison.Ordinal) && key.Length == ApiKeyFormat.Prefix.Length + 40
            ? ApiKeyFormat.PublicPrefix(key)
            : "unknown";

    [LoggerMessage(2010, LogLevel.Warning, "Admin login attempts from {Address} are throttled.")]
    private static partial void LogThrottled(ILogger logger, string? address);
}
