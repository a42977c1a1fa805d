using System.Collections.Concurrent;
using StackExchange.Redis;

namespace AspireLlm.Api.Streams;

/// <summary>
/// The long-lived responses this replica holds open (event streams, streamed completions), by API
/// key: so that a revoked key's streams can be ended (<see cref="StreamWatchdog"/>), and so that a
/// key's event streams can be capped across every replica. The cap is a set of leases in Redis, one
/// per open stream, each with an expiry that this replica renews while the stream lives: a replica
/// that dies takes its streams' leases with it within <see cref="LeaseFor"/>.
/// </summary>
public sealed partial class OpenStreams(IConnectionMultiplexer redis, TimeProvider timeProvider, ILogger<OpenStreams> logger)
{
    /// <summary>How long a lease lasts unless renewed; the watchdog renews every third of it.</summary>
    public static readonly TimeSpan LeaseFor = TimeSpan.FromSeconds(60);

    // Drops expired leases, then takes one if the key has fewer than its cap. Scores are expiry times.
    private const string AcquireScript = """
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
        if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
        redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
        redis.call('PEXPIRE', KEYS[1], ARGV[5])
        return 1
        """;

    private readonly ConcurrentDictionary<Guid, OpenStream> _streams = new();

    /// <summary>
    /// Opens a stream for <paramref name="keyId"/>; with a <paramref name="cap"/>, only while the key has
    /// fewer than that many capped streams open on all replicas (null when it has not). If Redis cannot
    /// be asked, the stream opens: the cap protects capacity, and the stream itself needs Redis anyway.
    /// </summary>
    /// <param name="pool">Which cap the stream counts against: job event streams (null) or another kind, such as agent sessions.</param>
    public async Task<OpenStream?> OpenAsync(Guid keyId, int? cap, string? pool = null)
    {
        var stream = new OpenStream(this, keyId, Guid.NewGuid(), counted: cap is not null) { Pool = pool };
        if (cap is { } limit)
        {
            var now = timeProvider.GetUtcNow();
            try
            {
                var taken = (long)await redis.GetDatabase().ScriptEvaluateAsync(AcquireScript, [LeaseKey(keyId, pool)],
                [
                    now.ToUnixTimeMilliseconds(), (now + LeaseFor).ToUnixTimeMilliseconds(), limit, stream.Id.ToString("N"),
                    (long)(LeaseFor * 2).TotalMilliseconds,
                ]);
                if (taken == 0)
                {
                    return null;
                }
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException)
            {
                LogCapUnavailable(logger, exception);
            }
        }

        _streams[stream.Id] = stream;
        return stream;
    }

    /// <summary>The keys with a stream open on this replica.</summary>
    public IReadOnlyCollection<Guid> KeyIds => [.. _streams.Values.Select(stream => stream.KeyId).Distinct()];

    /// <summary>Ends every stream of <paramref name="keyId"/> on this replica (its key was revoked).</summary>
    public void EndForKey(Guid keyId)
    {
        foreach (var stream in _streams.Values.Where(stream => stream.KeyId == keyId))
        {
            stream.End();
        }
    }

    /// <summary>Pushes the expiry of every capped stream's lease on (called every third of <see cref="LeaseFor"/>).</summary>
    public async Task RenewLeasesAsync()
    {
        var expiry = (timeProvider.GetUtcNow() + LeaseFor).ToUnixTimeMilliseconds();
        var database = redis.GetDatabase();
        await Task.WhenAll(_streams.Values.Where(stream => stream.Counted).Select(stream =>
            database.SortedSetAddAsync(LeaseKey(stream.KeyId, stream.Pool), stream.Id.ToString("N"), expiry, SortedSetWhen.Exists)));
    }

    internal async ValueTask CloseAsync(OpenStream stream)
    {
        _streams.TryRemove(stream.Id, out _);
        if (stream.Counted)
        {
            try
            {
                await redis.GetDatabase().SortedSetRemoveAsync(LeaseKey(stream.KeyId, stream.Pool), stream.Id.ToString("N"));
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException)
            {
                // The lease expires on its own within LeaseFor.
                LogCapUnavailable(logger, exception);
            }
        }
    }

    private static RedisKey LeaseKey(Guid keyId, string? pool) =>
        pool is null ? $"aspirellm:streams:{keyId:N}" : $"aspirellm:streams:{pool}:{keyId:N}";

    [LoggerMessage(2301, LogLevel.Warning, "The per-key stream cap could not be checked or updated in Redis; streams are not capped meanwhile.")]
    private static partial void LogCapUnavailable(ILogger logger, Exception exception);
}

/// <summary>One open stream: its token fires when the stream must end because its key was revoked.</summary>
public sealed class OpenStream(OpenStreams owner, Guid keyId, Guid id, bool counted) : IAsyncDisposable
{
    private readonly CancellationTokenSource _ended = new();

    public Guid KeyId { get; } = keyId;

    public Guid Id { get; } = id;

    public bool Counted { get; } = counted;

    /// <summary>The cap it counts against (null: job event streams).</summary>
    public string? Pool { get; init; }

    /// <summary>Fires when the key was revoked.</summary>
    public CancellationToken Revoked => _ended.Token;

    internal void End()
    {
        try
        {
            _ended.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Closed meanwhile.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await owner.CloseAsync(this);
        _ended.Dispose();
    }
}
