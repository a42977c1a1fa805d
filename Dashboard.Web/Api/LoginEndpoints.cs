using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace AspireLlm.Dashboard.Web.Api;

/// <summary>
/// Operators log in with an admin key, which the Api checks and audits (any active admin key works).
/// The form posts here (not to a Blazor component) because signing in sets a cookie, which needs a
/// plain HTTP response. Both posts need the form's antiforgery token; the login is throttled.
/// </summary>
internal static partial class LoginEndpoints
{
    public const string KeyIdClaim = "key_id";
    private const int MaxKeyLength = 256;

    public static IEndpointRouteBuilder MapLoginEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/account/login", LoginAsync).RequireAntiforgeryToken().WithMetadata(new LoginProtection.ThrottledLogin());
        routes.MapPost("/account/logout", async (HttpContext context) =>
        {
            await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return Results.Redirect("/login");
        }).RequireAntiforgeryToken();
        return routes;
    }

    private static async Task<IResult> LoginAsync(HttpContext context, LoginApiClient api, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var form = await context.Request.ReadFormAsync(cancellationToken);
        var key = form["key"].ToString().Trim();
        var returnUrl = LocalPath(form["returnUrl"].ToString());
        var back = returnUrl == "/" ? "" : "&returnUrl=" + Uri.EscapeDataString(returnUrl);
        if (key.Length is 0 or > MaxKeyLength)
        {
            return Results.Redirect("/login?failed=1" + back);
        }

        var result = await api.LoginAsync(key, context.Connection.RemoteIpAddress?.ToString(), cancellationToken);
        switch (result.Outcome)
        {
            case LoginOutcome.Success:
                var identity = new ClaimsIdentity(
                    [new Claim(ClaimTypes.Name, result.Prefix!), new Claim(KeyIdClaim, result.KeyId!.Value.ToString())],
                    CookieAuthenticationDefaults.AuthenticationScheme);
                await context.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, new ClaimsPrincipal(identity));
                return Results.Redirect(returnUrl);
            case LoginOutcome.Throttled:
                await LoginProtection.TooManyAttemptsAsync(context, result.RetryAfter, cancellationToken);
                return Results.Empty;
            case LoginOutcome.Unavailable:
                LogApiUnavailable(loggers.CreateLogger(typeof(LoginEndpoints)));
                return Results.Redirect("/login?unavailable=1" + back);
            default:
                return Results.Redirect("/login?failed=1" + back);
        }
    }

    /// <summary>
    /// The page to go back to after the login: only a path on this site (an absolute URL, "//host" or
    /// "/\host" would let a crafted link send the operator elsewhere), never the login page itself.
    /// </summary>
    internal static string LocalPath(string? returnUrl) =>
        returnUrl is { Length: > 0 and < 2000 } path && path[0] == '/' && (path.Length == 1 || path[1] is not ('/' or '\\'))
            && !path.StartsWith("/login", StringComparison.OrdinalIgnoreCase) && !path.Contains("://", StringComparison.Ordinal)
            ? path
            : "/";

    [LoggerMessage(4002, LogLevel.Warning, "A login could not be checked: the Api did not answer.")]
    private static partial void LogApiUnavailable(ILogger logger);
}
