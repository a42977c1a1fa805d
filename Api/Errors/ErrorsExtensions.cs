using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace AspireLlm.Api.Errors;

internal static class ErrorsExtensions
{
    public static IHostApplicationBuilder AddApiErrors(this IHostApplicationBuilder builder)
    {
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<ApiExceptionHandler>();
        builder.Services.AddOptions<ApiOptions>()
            .Bind(builder.Configuration.GetSection(ApiOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        var options = builder.Configuration.GetSection(ApiOptions.SectionName).Get<ApiOptions>() ?? new ApiOptions();
        builder.Services.Configure<KestrelServerOptions>(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes + 1;
            // A client that trickles its headers or body holds a connection; these bound how long.
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(options.RequestHeadersTimeoutSeconds);
            kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(options.MinRequestBodyBytesPerSecond, TimeSpan.FromSeconds(options.MinRequestBodyGraceSeconds));
        });
        return builder;
    }

    /// <summary>Bare error statuses (no route, wrong method) get a body in the route family's shape.</summary>
    public static IApplicationBuilder UseErrorStatusBodies(this IApplicationBuilder app) =>
        app.UseStatusCodePages(context => ErrorResponses.WriteAsync(
            context.HttpContext,
            context.HttpContext.Response.StatusCode,
            ReasonPhrases.Get(context.HttpContext.Response.StatusCode),
            context.HttpContext.Response.StatusCode switch
            {
                StatusCodes.Status404NotFound => "No such route.",
                StatusCodes.Status405MethodNotAllowed => "This route does not accept that method.",
                StatusCodes.Status415UnsupportedMediaType => "Send the body as application/json.",
                _ => ReasonPhrases.Get(context.HttpContext.Response.StatusCode),
            }));

    private static class ReasonPhrases
    {
        public static string Get(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);
    }
}
