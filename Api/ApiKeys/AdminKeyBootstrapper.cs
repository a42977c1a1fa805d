using Microsoft.Extensions.Options;

namespace AspireLlm.Api.ApiKeys;

/// <summary>
/// Stores the configured admin key at start, before the first request: restores it if it was revoked,
/// and revokes the bootstrap key configured before it (see <see cref="ApiKeyStore.EnsureBootstrapKeyAsync"/>).
/// </summary>
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
            var result = await keys.EnsureBootstrapKeyAsync(cancellationToken);
            if (result.Restored)
            {
                LogAdminKeyRestored(logger, ApiKeyFormat.PublicPrefix(key));
            }

            foreach (var previous in result.RotatedPrefixes)
            {
                LogPreviousAdminKeyRevoked(logger, previous);
            }

            LogAdminKeyReady(logger, ApiKeyFormat.PublicPrefix(key));
        }
        catch (Exception exception) when (exception is Npgsql.NpgsqlException or TimeoutException)
        {
            // Not fatal: the first request that presents the admin key stores it (see ApiKeyStore).
            LogAdminKeyDeferred(logger, exception);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(2001, LogLevel.Warning, "No admin key is configured (Admin:BootstrapKey); admin endpoints cannot be used.")]
    private static partial void LogNoAdminKey(ILogger logger);

    [LoggerMessage(2003, LogLevel.Warning, "The admin key could not be stored at start; the first request that uses it will store it.")]
    private static partial void LogAdminKeyDeferred(ILogger logger, Exception exception);

    [LoggerMessage(2002, LogLevel.Information, "Admin key {Prefix} is ready.")]
    private static partial void LogAdminKeyReady(ILogger logger, string prefix);

    [LoggerMessage(2004, LogLevel.Warning, "Admin key {Prefix} had been revoked; it is the configured bootstrap key, so it is valid again.")]
    private static partial void LogAdminKeyRestored(ILogger logger, string prefix);

    [LoggerMessage(2005, LogLevel.Information, "The previous bootstrap admin key {Prefix} is revoked: another one is configured now.")]
    private static partial void LogPreviousAdminKeyRevoked(ILogger logger, string prefix);
}
