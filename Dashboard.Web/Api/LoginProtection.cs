using System.ComponentModel.DataAnnotations;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace AspireLlm.Dashboard.Web.Api;

/// <summary>How many login attempts the dashboard takes per window, per client address and in all (each replica on its own).</summary>
public sealed class LoginThrottleOptions
{
    public const string SectionName = "Login";

    [Range(1, 10_000)]
    public int AttemptsPerAddress { get; set; } = 5;

    [Range(1, 100_000)]
    public int AttemptsOverall { get; set; } = 50;

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>
/// The login form's protections: attempts throttled per client address and overall (ASP.NET Core's
/// rate limiter; the address's window is asked first, so one noisy address spends only its own
/// attempts), antiforgery tokens checked on every form post, and cookies sent over HTTPS only outside
/// Development.
/// </summary>
internal static partial class LoginProtection
{
    /// <summary>Marks the endpoints the login throttle applies to.</summary>
    public sealed class ThrottledLogin;

    public static IHostApplicationBuilder AddLoginProtection(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<LoginThrottleOptions>()
            .Bind(builder.Configuration.GetSection(LoginThrottleOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddAntiforgery(options => options.Cookie.SecurePolicy = SecurePolicy(builder.Environment));
        builder.Services.AddRateLimiter(options =>
        {
            options.GlobalLimiter = PartitionedRateLimiter.CreateChained(
                PartitionedRateLimiter.Create<HttpContext, string>(context => IsLogin(context)
                    ? RateLimitPartition.GetFixedWindowLimiter(AddressOf(context), _ => Window(context, o => o.AttemptsPerAddress))
                    : RateLimitPartition.GetNoLimiter("")),
                PartitionedRateLimiter.Create<HttpContext, string>(context => IsLogin(context)
                    ? RateLimitPartition.GetFixedWindowLimiter("all", _ => Window(context, o => o.AttemptsOverall))
                    : RateLimitPartition.GetNoLimiter("")));
            options.OnRejected = (rejected, cancellationToken) =>
            {
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : (TimeSpan?)null;
                LogThrottled(rejected.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(LoginProtection)),
                    AddressOf(rejected.HttpContext));
                return new ValueTask(TooManyAttemptsAsync(rejected.HttpContext, retryAfter, cancellationToken));
            };
        });
        return builder;
    }

    /// <summary>The policy for the sign-in and antiforgery cookies: HTTPS only outside Development.</summary>
    public static CookieSecurePolicy SecurePolicy(IHostEnvironment environment) =>
        environment.IsDevelopment() ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;

    /// <summary>
    /// Refuses a form post whose antiforgery token is missing or wrong with 400. The middleware only
    /// records its verdict; an endpoint that reads the form itself must look at it (binding from the
    /// form would, but these endpoints read it by hand).
    /// </summary>
    public static RouteHandlerBuilder RequireAntiforgeryToken(this RouteHandlerBuilder endpoint) =>
        endpoint.WithMetadata(new RequireAntiforgeryTokenAttribute()).AddEndpointFilter(async (invocation, next) =>
            invocation.HttpContext.Features.Get<IAntiforgeryValidationFeature>() is { IsValid: true }
                ? await next(invocation)
                : Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid form", detail: "The form's antiforgery token is missing or invalid; reload the page."));

    /// <summary>The answer to a throttled attempt, here or at the Api: 429 with Retry-After and a page that says so.</summary>
    public static async Task TooManyAttemptsAsync(HttpContext context, TimeSpan? retryAfter, CancellationToken cancellationToken)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling((retryAfter ?? TimeSpan.FromMinutes(1)).TotalSeconds));
        context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        context.Response.Headers.RetryAfter = seconds.ToString();
        context.Response.ContentType = "text/html; charset=utf-8";
        await context.Response.WriteAsync(
            $"<!DOCTYPE html><title>Too many attempts</title><h1>Too many login attempts</h1><p>Try again in {seconds} s. <a href=\"/login\">Back to the login</a></p>",
            cancellationToken);
    }

    private static bool IsLogin(HttpContext context) => context.GetEndpoint()?.Metadata.GetMetadata<ThrottledLogin>() is not null;

    private static string AddressOf(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    private static FixedWindowRateLimiterOptions Window(HttpContext context, Func<LoginThrottleOptions, int> permits)
    {
        var options = context.RequestServices.GetRequiredService<IOptions<LoginThrottleOptions>>().Value;
        return new FixedWindowRateLimiterOptions { PermitLimit = permits(options), Window = options.Window, QueueLimit = 0, AutoReplenishment = true };
    }

    [LoggerMessage(4001, LogLevel.Warning, "Dashboard login attempts from {Address} are throttled.")]
    private static partial void LogThrottled(ILogger logger, string address);
}
