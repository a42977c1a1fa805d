using AspireLlm.Api.ApiKeys;

namespace AspireLlm.Api.Streams;

/// <summary>
/// Ends the open streams of revoked keys and renews the stream leases. A key change anywhere moves
/// <see cref="KeyCacheEpoch"/> within a second (pub/sub, else its 500 ms poll), and this checks the
/// keys of open streams as soon as it sees one; without Redis no change is announced, so the keys are
/// also checked every <see cref="FullCheckEvery"/>, the same bound as the key cache's.
/// </summary>
internal sealed partial class StreamWatchdog(
    OpenStreams streams, KeyCacheEpoch epoch, ApiKeyStore keys, TimeProvider timeProvider, ILogger<StreamWatchdog> logger) : BackgroundService
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan FullCheckEvery = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var seenEpoch = epoch.Current;
        var lastCheck = timeProvider.GetTimestamp();
        var lastRenewal = timeProvider.GetTimestamp();
        using var timer = new PeriodicTimer(Tick, timeProvider);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                if (epoch.Current != seenEpoch || timeProvider.GetElapsedTime(lastCheck) >= FullCheckEvery)
                {
                    seenEpoch = epoch.Current;
                    lastCheck = timeProvider.GetTimestamp();
                    await EndRevokedAsync(stoppingToken);
                }

                if (timeProvider.GetElapsedTime(lastRenewal) >= OpenStreams.LeaseFor / 3)
                {
                    lastRenewal = timeProvider.GetTimestamp();
                    await streams.RenewLeasesAsync();
                }
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                LogCheckFailed(logger, exception);
            }
        }
    }

    private async Task EndRevokedAsync(CancellationToken cancellationToken)
    {
        var open = streams.KeyIds;
        if (open.Count == 0)
        {
            return;
        }

        foreach (var revoked in await keys.RevokedAmongAsync(open, cancellationToken))
        {
            LogEnding(logger, revoked);
            streams.EndForKey(revoked);
        }
    }

    [LoggerMessage(2302, LogLevel.Information, "Key {KeyId} was revoked; its open streams on this replica end now.")]
    private static partial void LogEnding(ILogger logger, Guid keyId);

    [LoggerMessage(2303, LogLevel.Warning, "The open streams' keys or leases could not be checked; trying again shortly.")]
    private static partial void LogCheckFailed(ILogger logger, Exception exception);
}
