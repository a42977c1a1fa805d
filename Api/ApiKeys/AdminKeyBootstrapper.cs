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

        try
        {
            await keys.EnsureBootstrapKeyAsync(cancellationToken);
            LogAdminKeyReady(logger, ApiKeyFormat.PublicPrefix(key));
        }
        catch (Exception exception) when (exception is Npgsql.NpgsqlException or TimeoutException)
        {
            // Not fatal: the first request that presents the admin key stores it (see ApiKeyStore).
            LogAdminKeyDeferred(logger, exception);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(1001, LogLevel.Warning, "No admin key is configured (Admin:BootstrapKey); admin endpoints cannot be used.")]
    private static partial void LogNoAdminKey(ILogger logger);

    [LoggerMessage(1003, LogLevel.Warning, "The admin key could not be stored at start; the first request that uses it will store it.")]
    private static partial void LogAdminKeyDeferred(ILogger logger, Exception exception);

    [LoggerMessage(1002, LogLevel.Information, "Admin key {Prefix} is ready.")]
    private static partial void LogAdminKeyReady(ILogger logger, string prefix);
}
