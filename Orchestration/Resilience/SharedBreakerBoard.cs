using System.Collections.Concurrent;
using AspireLlm.Orchestration.Storage;
using AspireLlm.Orchestration.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace AspireLlm.Orchestration.Resilience;

/// <summary>
/// Shares circuit state between replicas through Redis, so that when one replica finds a
/// deployment dead, all of them stop calling it within milliseconds (pub/sub), and within a
/// second even if a message is lost (each replica also reads the open circuits every second).
/// Open state is a key that expires with the break; the time left is what travels, not a wall
/// clock time, so replicas' clock skew does not matter. Each replica still decides from its own
/// in-process <see cref="CircuitBreaker"/>, so an open circuit costs no round trip.
/// </summary>
public sealed class SharedBreakerBoard(IConnectionMultiplexer? redis, OrchestrationTelemetry telemetry, ILogger<SharedBreakerBoard> logger, TimeProvider timeProvider)
    : BackgroundService
{
    private const string KeyPrefix = "aspirellm:breaker:";
    private static readonly RedisChannel Channel = RedisChannel.Literal("aspirellm:breakers");

    private readonly string _replica = Guid.NewGuid().ToString("N");
    private readonly ConcurrentDictionary<string, CircuitBreaker> _breakers = new(StringComparer.Ordinal);
    private bool _redisDown;

    /// <summary>How often open circuits are read back from Redis, in case a message was missed.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    public void Register(CircuitBreaker breaker)
    {
        if (_breakers.TryAdd(breaker.Deployment, breaker))
        {
            breaker.Transitioned += transition =>
            {
                telemetry.BreakerTransition(transition);
                logger.BreakerChanged(transition.Deployment, transition.To, transition.From, transition.Remote);
                if (!transition.Remote)
                {
                    Publish(transition);
                }
            };
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (redis is null)
        {
            return;
        }

        Action<RedisChannel, RedisValue> handler = (_, message) => Apply(message.ToString());
        await SubscribeAsync(handler);
        using var timer = new PeriodicTimer(PollInterval, timeProvider);
        do
        {
            await PollAsync();
        }
        while (await WaitAsync(timer, stoppingToken));

        try
        {
            await redis.GetSubscriber().UnsubscribeAsync(Channel, handler);
        }
        catch (Exception exception) when (exception is RedisException or RedisTimeoutException)
        {
            // Stopping anyway; the connection's end drops the subscription.
        }
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task SubscribeAsync(Action<RedisChannel, RedisValue> handler)
    {
        try
        {
            await redis!.GetSubscriber().SubscribeAsync(Channel, handler);
        }
        catch (Exception exception) when (exception is RedisException or RedisTimeoutException)
        {
            // The poll below still shares state once Redis is back; the subscription is retried on the next start.
            Unavailable(exception);
        }
    }

    private void Publish(BreakerTransition transition)
    {
        if (redis is null)
        {
            return;
        }

        try
        {
            var database = redis.GetDatabase();
            var key = KeyPrefix + transition.Deployment;
            if (transition.To == BreakerState.Open)
            {
                RedisFireAndForget.Send(database.StringSetAsync(key, _replica, transition.OpenFor, flags: CommandFlags.FireAndForget));
                RedisFireAndForget.Send(database.PublishAsync(
                    Channel, $"open|{(long)transition.OpenFor.TotalMilliseconds}|{_replica}|{transition.Deployment}", CommandFlags.FireAndForget));
            }
            else if (transition.To == BreakerState.Closed)
            {
                RedisFireAndForget.Send(database.KeyDeleteAsync(key, CommandFlags.FireAndForget));
                RedisFireAndForget.Send(database.PublishAsync(Channel, $"close|0|{_replica}|{transition.Deployment}", CommandFlags.FireAndForget));
            }
        }
        catch (Exception exception) when (exception is RedisException or RedisTimeoutException)
        {
            Unavailable(exception);
        }
    }

    /// <summary>Applies "open|ms|replica|deployment" or "close|0|replica|deployment" from another replica.</summary>
    private void Apply(string message)
    {
        var parts = message.Split('|', 4);
        if (parts.Length != 4 || parts[2] == _replica || !_breakers.TryGetValue(parts[3], out var breaker))
        {
            return;
        }

        if (parts[0] == "open" && long.TryParse(parts[1], out var milliseconds))
        {
            breaker.ApplyRemoteOpen(TimeSpan.FromMilliseconds(milliseconds));
        }
        else if (parts[0] == "close")
        {
            breaker.ApplyRemoteClose();
        }
    }

    private async Task PollAsync()
    {
        try
        {
            var database = redis!.GetDatabase();
            var breakers = _breakers.Values.ToList();
            var remaining = await Task.WhenAll(breakers.Select(breaker => database.KeyTimeToLiveAsync(KeyPrefix + breaker.Deployment)));
            for (var i = 0; i < breakers.Count; i++)
            {
                if (remaining[i] is { } ttl && ttl > TimeSpan.Zero && breakers[i].State != BreakerState.Open)
                {
                    breakers[i].ApplyRemoteOpen(ttl);
                }
            }

            _redisDown = false;
        }
        catch (Exception exception) when (exception is RedisException or RedisTimeoutException or OperationCanceledException)
        {
            // Cancelled can only be the client's doing here (nothing else cancels a poll): it ends the
            // commands in flight that way when it drops a dead connection.
            Unavailable(exception);
        }
    }

    private void Unavailable(Exception exception)
    {
        if (!_redisDown)
        {
            _redisDown = true;
            logger.SharedBreakerUnavailable(exception);
        }
    }
}
