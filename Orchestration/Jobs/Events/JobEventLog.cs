using System.Text.Json;
using StackExchange.Redis;

namespace AspireLlm.Orchestration.Jobs.Events;

/// <summary>
/// A job's event stream in Redis: a list that holds every event (its index is the event id, so ids
/// are gap-free and survive worker restarts) plus a pub/sub channel that carries each event, with its
/// id, to whichever Api replica holds the client's connection. Appending and publishing happen in
/// one script, so a subscriber never sees an id the list does not hold. Lists and pub/sub rather than
/// Redis Streams because Garnet, our fallback server, has no streams.
/// </summary>
public sealed class JobEventLog(IConnectionMultiplexer redis)
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
        var json = JsonSerializer.Serialize(jobEvent, SerializerOptions);
        var id = await redis.GetDatabase().ScriptEvaluateAsync(AppendScript,
            [ListKey(jobId), (RedisKey)Channel(jobId).ToString()],
            [json, (long)Retention.TotalSeconds]);
        return (long)id;
    }

    /// <summary>The events after <paramref name="afterId"/>, in order.</summary>
    public async Task<IReadOnlyList<SequencedJobEvent>> ReadAfterAsync(Guid jobId, long afterId)
    {
        var values = await redis.GetDatabase().ListRangeAsync(ListKey(jobId), afterId, -1);
        return [.. values.Select((value, index) => new SequencedJobEvent(afterId + index + 1, value!))];
    }

    /// <summary>Subscribes to live events; call before reading history so nothing falls between the two.</summary>
    public async Task<ChannelMessageQueue> SubscribeAsync(Guid jobId) =>
        await redis.GetSubscriber().SubscribeAsync(Channel(jobId));

    /// <summary>Parses a live message (<c>"{id} {json}"</c>).</summary>
    public static SequencedJobEvent ParseLive(RedisValue message)
    {
        var text = (string)message!;
        var space = text.IndexOf(' ', StringComparison.Ordinal);
        return new SequencedJobEvent(long.Parse(text[..space], System.Globalization.CultureInfo.InvariantCulture), text[(space + 1)..]);
    }
}
