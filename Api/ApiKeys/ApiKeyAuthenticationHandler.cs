using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace AspireLlm.Api.ApiKeys;

/// <summary>Authenticates <c>Authorization: Bearer &lt;key&gt;</c> against the stored key hashes.</summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeyStore keys, FailedAuthentication failures)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }

        var key = header["Bearer ".Length..].Trim();
        if (key.Length is 0 or > 256)
        {
            return AuthenticateResult.Fail("Malformed API key.");
        }

        var address = Context.Connection.RemoteIpAddress;
        var (record, refused) = await keys.FindAsync(key, () => failures.MayTry(address), Context.RequestAborted);
        if (refused)
        {
            Context.Items[ThrottledItem] = true;
            return AuthenticateResult.Fail("Too many failed attempts from this address.");
        }

        if (record is null || record.RevokedAt is not null)
        {
            // The same answer for unknown and revoked keys: a caller learns nothing about other keys.
            return AuthenticateResult.Fail("Invalid API key.");
        }

        List<Claim> claims =
        [
            new(ClaimTypes.NameIdentifier, record.Id.ToString()),
            new(Caller.TenantClaim, record.TenantId),
            new(Caller.KeyIdClaim, record.Id.ToString()),
        ];
        if (record.IsAdmin)
        {
            claims.Add(new Claim(ClaimTypes.Role, Caller.AdminRole));
        }

        Context.Items[typeof(ApiKeyRecord)] = record;
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    private const string ThrottledItem = "aspirellm.auth.throttled";

    /// <summary>A request without a valid key reached a route that needs one: it counts against its address.</summary>
    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var address = Context.Connection.RemoteIpAddress;
        if (Context.Items.ContainsKey(ThrottledItem) || !failures.MayTry(address))
        {
            return Errors.ErrorResponses.WriteAsync(Context, StatusCodes.Status429TooManyRequests, "Too many failed attempts",
                "Too many requests without a valid API key from this address; wait before trying again.", "too_many_failed_attempts",
                FailedAuthentication.RetryAfter);
        }

        failures.Record(address);
        Response.Headers.WWWAuthenticate = "Bearer";
        return Errors.ErrorResponses.WriteAsync(Context, StatusCodes.Status401Unauthorized, "Unauthorized",
            "Incorrect or missing API key. Send 'Authorization: Bearer <key>'.", "invalid_api_key");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Errors.ErrorResponses.WriteAsync(Context, StatusCodes.Status403Forbidden, "Forbidden", "This API key may not use this endpoint.", "forbidden");
}
