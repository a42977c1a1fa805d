using AspireLlm.Api.Admin;
using AspireLlm.Api.Audit;
using Microsoft.AspNetCore.Authentication;

namespace AspireLlm.Api.ApiKeys;

internal static class ApiKeysExtensions
{
    public const string AdminPolicy = "admin";

    public static IHostApplicationBuilder AddApiKeys(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<FailedAuthenticationOptions>()
            .Bind(builder.Configuration.GetSection(FailedAuthenticationOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<FailedAuthentication>();
        builder.Services.AddSingleton<ApiKeyStore>();
        builder.Services.AddSingleton<KeyCacheEpoch>();
        builder.Services.AddHostedService(services => services.GetRequiredService<KeyCacheEpoch>());
        builder.Services.AddOptions<AdminOptions>()
            .Bind(builder.Configuration.GetSection(AdminOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddHostedService<AdminKeyBootstrapper>();
        builder.Services.AddOptions<KeyDefaultsOptions>()
            .Bind(builder.Configuration.GetSection(KeyDefaultsOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<AuditLog>();
        builder.Services.AddOptions<LoginThrottleOptions>()
            .Bind(builder.Configuration.GetSection(LoginThrottleOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<LoginThrottle>();

        builder.Services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(AdminPolicy, policy => policy.RequireRole(Caller.AdminRole));
        return builder;
    }
}
