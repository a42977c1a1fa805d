using System.Globalization;
using System.Text.Json;
using AspireLlm.Orchestration.Encryption;
using StackExchange.Redis;

namespace AspireLlm.Orchestration.Jobs.Events;

/// <summary>
/// A job's event stream in Redis: a list that holds every event (its index is the event id, so ids
/// are gap-free and survive worker restarts) plus a pub/sub channel that carries each event, with its
/// id, to whichever Api replica holds the client's connection. Appending and publishing happen in
/// one script, so a subscriber never sees an id the list does not hold. Lists and pub/sub rather than
/// Redis Streams because Garnet, our fallback server, has no streams.
/// </summary>
/// <remarks>
/// Token events are answer text, so every event is sealed (<see cref="ContentCipher"/>, bound to the
/// job's list key) in the list and in the pub/sub message alike; ids and order are Redis's as before.
/// </remarks>
public sealed class JobEventLog(IConnectionMultiplexer redis, ContentCipher cipher)
{
    /// <summary>How long a job's events are kept for late or resuming clients.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromHours(24);

    private const string AppendScript = """
        local id = redis.call('RPUSH', KEYS[1], ARGV[1])
        redis.call('EXPIRE', KEYS[1], ARGV[2])
        redis.call('PUBLISH', KEYS[2], id .. ' ' .. ARGV[1])
        return id
        """;

    /// <summary>Absent fields are left out rather than written as null: events stay small and unambiguous.</summary>
    public static readonly JsonSerializerOptions SerializerOptions = new()
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    public static RedisKey ListKey(Guid jobId) => $"aspirellm:job:{jobId:N}:events";

    public static RedisChannel Channel(Guid jobId) => RedisChannel.Literal($"aspirellm:job:{jobId:N}:live");

    /// <summary>Appends an event and publishes it; returns its id.</summary>
    public async Task<long> AppendAsync(Guid jobId, JobEvent jobEvent)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(jobEvent, SerializerOptions);
        var id = await redis.GetDatabase().ScriptEvaluateAsync(AppendScript,
            [ListKey(jobId), (RedisKey)Channel(jobId).ToString()],
            [cipher.Seal(json, Context(jobId)), (long)Retention.TotalSeconds]);
        return (long)id;
    }

    // Appends only at the expected position: an event re-sent after a crash (same position) is not
    // repeated. Returns the new id, 0 when the position was taken, or -(length) when events are missing.
    private const string AppendAtScript = """
        local length = redis.call('LLEN', KEYS[1])
        if length >= tonumber(ARGV[3]) then return 0 end
        if length < tonumber(ARGV[3]) - 1 then return -length end
        local id = redis.call('RPUSH', KEYS[1], ARGV[1])
        redis.call('EXPIRE', KEYS[1], ARGV[2])
        redis.call('PUBLISH', KEYS[2], id .. ' ' .. ARGV[1])
        return id
        """;

    /// <summary>Appends an event already serialized (an agent task's); returns its id.</summary>
    public async Task<long> AppendAsync(Guid jobId, byte[] json)
    {
        var id = await redis.GetDatabase().ScriptEvaluateAsync(AppendScript,
            [ListKey(jobId), (RedisKey)Channel(jobId).ToString()],
            [cipher.Seal(json, Context(jobId)), (long)Retention.TotalSeconds]);
        return (long)id;
    }

    /// <summary>
    /// Appends an event as number <paramref name="id"/> unless that position is already taken (the
    /// event was appended before a crash and is being re-sent): true when it was appended now. When
    /// events before it are missing (the list expired or Redis lost it), it is appended after what is there.
    /// </summary>
    public async Task<bool> AppendAtAsync(Guid jobId, long id, byte[] json)
    {
        var sealedEvent = cipher.Seal(json, Context(jobId));
        var result = (long)await redis.GetDatabase().ScriptEvaluateAsync(AppendAtScript,
            [ListKey(jobId), (RedisKey)Channel(jobId).ToString()],
            [sealedEvent, (long)Retention.TotalSeconds, id]);
        if (result < 0)
        {
            await AppendAsync(jobId, json);
            return true;
        }

        return result > 0;
    }

    /// <summary>The number of events the job has (the id of its last one).</summary>
    public async Task<long> CountAsync(Guid jobId) => await redis.GetDatabase().ListLengthAsync(ListKey(jobId));

    /// <summary>The events after <paramref name="afterId"/>, in order.</summary>
    public async Task<IReadOnlyList<SequencedJobEvent>> ReadAfterAsync(Guid jobId, long afterId)
    {
        var values = await redis.GetDatabase().ListRangeAsync(ListKey(jobId), afterId, -1);
        var context = Context(jobId);
        return [.. values.Select((value, index) => new SequencedJobEvent(afterId + index + 1, Open((byte[])value!, context)))];
    }

    /// <summary>Forgets jobs' events (their content is being erased).</summary>
    public Task DeleteAsync(params IReadOnlyCollection<Guid> jobIds) =>
        redis.GetDatabase().KeyDeleteAsync([.. jobIds.Select(ListKey)]);

    /// <summary>Subscribes to live events; call before reading history so nothing falls between the two.</summary>
    public async Task<ChannelMessageQueue> SubscribeAsync(Guid jobId) =>
        await redis.GetSubscriber().SubscribeAsync(Channel(jobId));

    /// <summary>Opens a live message of the job (<c>"{id} {sealed event}"</c>).</summary>
    public SequencedJobEvent ParseLive(Guid jobId, RedisValue message)
    {
        var bytes = ((byte[])message!).AsSpan();
        var space = bytes.IndexOf((byte)' ');
        var id = long.Parse(bytes[..space], NumberStyles.None, CultureInfo.InvariantCulture);
        return new SequencedJobEvent(id, Open(bytes[(space + 1)..], Context(jobId)));
    }

    private static byte[] Context(Guid jobId) => SealContext.ForRedisKey(ListKey(jobId)!);

    private string Open(ReadOnlySpan<byte> value, byte[] context) =>
        // An event written in the clear before events were sealed (they live a day): still readable.
        value is [(byte)'{', ..] ? System.Text.Encoding.UTF8.GetString(value) : cipher.OpenString(value, context);
}
