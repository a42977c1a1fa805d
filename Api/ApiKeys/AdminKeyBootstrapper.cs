using Microsoft.Extensions.Options;

namespace AspireLlm.Api.ApiKeys;

/// <summary>Stores the hash of the configured admin key once, at start, before the first request.</summary>
internal sealed partial class AdminKeyBootstrapper(ApiKeyStore keys, IOptions<AdminOptions> options, ILogger<AdminKeyBootstrapper> logger)
    : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var key = options.Value.BootstrapKey;
        if (string.IsNullOrEmpty(key))
        {
            LogNoAdminKey(logger);
            return;
        }

        await keys.EnsureAsync(key, options.Value.Tenant, "bootstrap admin", isAdmin: true, cancellationToken);
        LogAdminKeyReady(logger, ApiKeyFormat.PublicPrefix(key));
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(1001, LogLevel.Warning, "No admin key is configured (Admin:BootstrapKey); admin endpoints cannot be used.")]
    private static partial void LogNoAdminKey(ILogger logger);

    [LoggerMessage(1002, LogLevel.Information, "Admin key {Prefix} is ready.")]
    private static partial void LogAdminKeyReady(ILogger logger, string prefix);
}
