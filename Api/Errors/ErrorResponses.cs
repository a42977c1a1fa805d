using System.Globalization;
using AspireLlm.Api.Gateway;

namespace AspireLlm.Api.Errors;

/// <summary>
/// Writes an error in the shape of the API family its route belongs to: OpenAI's on the
/// OpenAI-compatible routes (<see cref="GatewayRoutes.SpeaksOpenAi"/>), ProblemDetails everywhere
/// else. Used where the failure is not the endpoint's own: authentication, routing, limits applied
/// before the endpoint, and unexpected exceptions.
/// </summary>
public static class ErrorResponses
{
    public static async Task WriteAsync(HttpContext http, int status, string title, string detail, string? code = null, TimeSpan? retryAfter = null)
    {
        if (GatewayRoutes.SpeaksOpenAi(http.Request.Path))
        {
            await OpenAiError.ForStatus(status, detail, code).WriteAsync(http, retryAfter);
            return;
        }

        if (retryAfter is { } wait)
        {
            http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }

        http.Response.StatusCode = status;
        var problem = new Microsoft.AspNetCore.Mvc.ProblemDetails { Status = status, Title = title, Detail = detail };
        if (code is not null)
        {
            problem.Extensions["code"] = code;
        }

        await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = problem });
    }

    /// <summary>The id a client quotes to us about a request (its x-request-id header).</summary>
    public static string RequestId(HttpContext http) => http.Response.Headers["x-request-id"].ToString();
}
