using StackExchange.Redis;

namespace AspireLlm.Api.ApiKeys;

/// <summary>
/// Makes a key change (revocation, new limits) reach every replica's key cache within a second.
/// Each change bumps a counter in Redis and announces it on a channel; every replica keys its cache
/// entries by a local generation that moves on whenever the counter it sees changes (up, or down
/// after a Redis restart), so every older entry becomes unreachable at once. The channel brings the
/// news in milliseconds; a poll every 500 ms covers a lost message.
/// </summary>
public sealed partial class KeyCacheEpoch(IConnectionMultiplexer redis, ILogger<KeyCacheEpoch> logger, TimeProvider timeProvider) : BackgroundService
{
    private const string EpochKey = "aspirellm:keys:epoch";
    private static readonly RedisChannel Channel = RedisChannel.Literal("aspirellm:keys:changed");
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    private readonly Lock _gate = new();
    private long? _seen;
    private long _generation = -1;

    /// <summary>The cache generation; -1 (nothing may be cached) until Redis has answered once.</summary>
    public long Current => Volatile.Read(ref _generation);

    /// <summary>Announces a change; called after the database has committed it.</summary>
    public async Task BumpAsync()
    {
        try
        {
            var epoch = await redis.GetDatabase().StringIncrementAsync(EpochKey);
            Observe(epoch);
            await redis.GetSubscriber().PublishAsync(Channel, epoch);
        }
        catch (Exception exception) when (exception is RedisException or RedisTimeoutException)
        {
            // The change is committed; without Redis the other replicas see it when their entries expire.
            LogBumpFailed(logger, exception);
            Invalidate();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await redis.GetSubscriber().SubscribeAsync(Channel, (_, value) => Observe((long)value));
        }
        catch (Exception exception) when (exception is RedisException or RedisTimeoutException)
        {
            LogAnnouncementsUnavailable(logger, exception);
        }

        using var timer = new PeriodicTimer(PollInterval, timeProvider);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var value = await redis.GetDatabase().StringGetAsync(EpochKey);
                Observe(value.IsNull ? 0 : (long)value);
                await timer.WaitForNextTickAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception) when (!stoppingToken.IsCancellationRequested)
            {
                // Redis refused, timed out, or dropped the connection with the read in flight (the client
                // then ends it as cancelled): this loop must outlive that, or the replica stops. Without Redis
                // no change can be announced either; entries still expire on their own.
                await Task.Delay(PollInterval, timeProvider, CancellationToken.None);
            }
        }
    }

    private void Observe(long epoch)
    {
        lock (_gate)
        {
            if (_seen != epoch)
            {
                _seen = epoch;
                _generation++;
            }
        }
    }

    private void Invalidate()
    {
        lock (_gate)
        {
            _generation++;
        }
    }

    [LoggerMessage(EventId = 2021, Level = LogLevel.Warning, Message = "Could not announce a key change through Redis; other replicas see it when their cached entries expire.")]
    private static partial void LogBumpFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 2022, Level = LogLevel.Warning, Message = "Key change announcements are unavailable; relying on the poll.")]
    private static partial void LogAnnouncementsUnavailable(ILogger logger, Exception exception);
}
