using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace AspireLlm.Orchestration.Caching;

/// <summary>Where cached answers live. Redis in the services; any store that keeps bytes by key with an expiry will do.</summary>
public interface IAnswerCacheStore
{
    /// <summary>The bytes stored under <paramref name="key"/>, or null when there are none or the store cannot be reached.</summary>
    ValueTask<byte[]?> GetAsync(string key);

    /// <summary>Stores without waiting: the caller already has its answer.</summary>
    void Set(string key, byte[] value, TimeSpan timeToLive);
}

/// <summary>
/// The Redis store. Failures are logged and read as misses: a cache that is down must slow calls
/// down to provider speed, never fail them.
/// </summary>
public sealed class RedisAnswerCacheStore(IConnectionMultiplexer redis, ILogger logger) : IAnswerCacheStore
{
    public async ValueTask<byte[]?> GetAsync(string key)
    {
        try
        {
            var value = await redis.GetDatabase().StringGetAsync(key);
            return value.IsNull ? null : (byte[]?)value;
        }
        catch (Exception exception) when (exception is RedisException or RedisTimeoutException or ObjectDisposedException)
        {
            logger.CacheUnavailable(exception.GetType().Name);
            return null;
        }
    }

    public void Set(string key, byte[] value, TimeSpan timeToLive)
    {
        try
        {
            redis.GetDatabase().StringSet(key, value, timeToLive, flags: CommandFlags.FireAndForget);
        }
        catch (Exception exception) when (exception is RedisException or RedisTimeoutException or ObjectDisposedException)
        {
            logger.CacheUnavailable(exception.GetType().Name);
        }
    }
}

internal static partial class CacheLog
{
    [LoggerMessage(EventId = 3101, Level = LogLevel.Warning, Message = "The answer cache is unavailable ({Error}); calling providers instead.")]
    public static partial void CacheUnavailable(this ILogger logger, string error);
}
