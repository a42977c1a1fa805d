using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;

namespace AspireLlm.Dashboard.Web.Api;

/// <summary>
/// Operators log in with the admin key. The form posts here (not to a Blazor component) because
/// signing in sets a cookie, which needs a plain HTTP response.
/// </summary>
internal static class LoginEndpoints
{
    public static IEndpointRouteBuilder MapLoginEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/account/login", async (HttpContext context, IOptions<DashboardOptions> options) =>
        {
            var form = await context.Request.ReadFormAsync();
            var typed = Encoding.UTF8.GetBytes(form["key"].ToString());
            var expected = Encoding.UTF8.GetBytes(options.Value.ApiKey);
            if (!CryptographicOperations.FixedTimeEquals(typed, expected))
            {
                return Results.Redirect("/login?failed=1");
            }

            var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "operator")], CookieAuthenticationDefaults.AuthenticationScheme);
            await context.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, new ClaimsPrincipal(identity));
            return Results.Redirect("/");
        });

        routes.MapPost("/account/logout", async (HttpContext context) =>
        {
            await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return Results.Redirect("/login");
        });
        return routes;
    }
}
