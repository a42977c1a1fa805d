using System.Diagnostics;
using System.Security.Cryptography;
using AspireLlm.Orchestration.Encryption;
using AspireLlm.Orchestration.Storage;
using AspireLlm.Orchestration.Telemetry;
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
/// The Redis store. Answers are customer content, so Redis holds them sealed (<see cref="ContentCipher"/>,
/// bound to their key: an entry copied under another key does not open). Failures are logged and
/// read as misses: a cache that is down must slow calls down to provider speed, never fail them;
/// an entry that no longer opens (its key was retired) is a miss too, and is overwritten.
/// </summary>
public sealed class RedisAnswerCacheStore(IConnectionMultiplexer redis, ContentCipher cipher, ILogger logger) : IAnswerCacheStore
{
    public async ValueTask<byte[]?> GetAsync(string key)
    {
        using var activity = OrchestrationTelemetry.Source.StartActivity("cache.read", ActivityKind.Client);
        activity?.SetTag("db.system.name", "redis");
        try
        {
            var value = await redis.GetDatabase().StringGetAsync(key);
            return value.IsNull ? null : cipher.Open((byte[])value!, SealContext.ForRedisKey(key));
        }
        catch (Exception exception) when (exception is RedisException or RedisTimeoutException or ObjectDisposedException)
        {
            logger.CacheUnavailable(exception.GetType().Name);
            return null;
        }
        catch (CryptographicException)
        {
            logger.CacheEntryUnreadable();
            return null;
        }
    }

    public void Set(string key, byte[] value, TimeSpan timeToLive)
    {
        try
        {
            RedisFireAndForget.Send(redis.GetDatabase().StringSetAsync(
                key, cipher.Seal(value, SealContext.ForRedisKey(key)), timeToLive, flags: CommandFlags.FireAndForget));
        }
        catch (Exception exception) when (exception is RedisException or RedisTimeoutException or ObjectDisposedException)
        {
            logger.CacheUnavailable(exception.GetType().Name);
        }
    }
}

internal static partial class CacheLog
{
    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "The answer cache is unavailable ({Error}); calling providers instead.")]
    public static partial void CacheUnavailable(this ILogger logger, string error);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "A cached answer could not be opened (its key is not in the keyring, or it was altered); treated as a miss.")]
    public static partial void CacheEntryUnreadable(this ILogger logger);
}
