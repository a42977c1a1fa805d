using StackExchange.Redis;

namespace AspireLlm.Api.ApiKeys;

/// <summary>
/// Makes a key change (revocation, new limits) reach every replica's key cache within a second.
/// Each change bumps a counter in Redis and announces it on a channel; every replica keys its cache
/// entries by the counter, so a new value makes every older entry unreachable at once. The channel
/// brings the news in milliseconds; a poll every 500 ms covers a lost message.
/// </summary>
public sealed class KeyCacheEpoch(IConnectionMultiplexer redis, ILogger<KeyCacheEpoch> logger, TimeProvider timeProvider) : BackgroundService
{
    private const string EpochKey = "aspirellm:keys:epoch";
    private static readonly RedisChannel Channel = RedisChannel.Literal("aspirellm:keys:changed");
    private long _epoch = -1;

    /// <summary>The current epoch; -1 (nothing may be cached) until Redis has answered once.</summary>
    public long Current => Volatile.Read(ref _epoch);

    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>Announces a change; called after the database has committed it.</summary>
    public async Task BumpAsync()
    {
        var epoch = await redis.GetDatabase().StringIncrementAsync(EpochKey);
        Update(epoch);
        await redis.GetSubscriber().PublishAsync(Channel, epoch);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await redis.GetSubscriber().SubscribeAsync(Channel, (_, value) => Update((long)value));
        }
        catch (RedisException exception)
        {
            logger.LogWarning(exception, "Key change announcements are unavailable; relying on the poll.");
        }

        using var timer = new PeriodicTimer(PollInterval, timeProvider);
        do
        {
            try
            {
                var value = await redis.GetDatabase().StringGetAsync(EpochKey);
                Update(value.IsNull ? 0 : (long)value);
            }
            catch (RedisException)
            {
                // Without Redis no change can be announced either; entries still expire on their own.
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).AsTask().ContinueWith(t => !t.IsCanceled && t.Result, TaskScheduler.Default));
    }

    private void Update(long epoch)
    {
        long current;
        do
        {
            current = Volatile.Read(ref _epoch);
            if (epoch <= current)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref _epoch, epoch, current) != current);
    }
}
