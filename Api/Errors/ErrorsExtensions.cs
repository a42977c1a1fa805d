namespace AspireLlm.Api.Errors;

internal static class ErrorsExtensions
{
    public static IHostApplicationBuilder AddApiErrors(this IHostApplicationBuilder builder)
    {
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<DependencyExceptionHandler>();
        builder.Services.AddOptions<ApiOptions>()
            .Bind(builder.Configuration.GetSection(ApiOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        var limit = builder.Configuration.GetValue<long?>($"{ApiOptions.SectionName}:MaxRequestBodyBytes") ?? new ApiOptions().MaxRequestBodyBytes;
        builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(kestrel =>
            kestrel.Limits.MaxRequestBodySize = limit + 1);
        return builder;
    }
}
