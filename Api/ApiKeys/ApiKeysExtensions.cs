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
        WithoutDataProtectionKeyRing(builder.Services);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(AdminPolicy, policy => policy.RequireRole(Caller.AdminRole));
        return builder;
    }

    /// <summary>
    /// Authentication brings ASP.NET Core Data Protection, whose hosted service loads (or creates and
    /// writes to disk) a key ring when the host starts. Nothing in the Api protects data with it: keys are
    /// bearer tokens, there are no cookies, and content is sealed with our own key. Without it the process
    /// neither loads the XML stack (about 4 MiB) nor writes key files into its container.
    /// </summary>
    private static void WithoutDataProtectionKeyRing(IServiceCollection services)
    {
        var keyRingLoader = services.FirstOrDefault(service =>
            service.ServiceType == typeof(IHostedService)
            && service.ImplementationType?.FullName == "Microsoft.AspNetCore.DataProtection.Internal.DataProtectionHostedService");
        if (keyRingLoader is not null)
        {
            services.Remove(keyRingLoader);
        }
    }
}
