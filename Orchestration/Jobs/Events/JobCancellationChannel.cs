using StackExchange.Redis;

namespace AspireLlm.Orchestration.Jobs.Events;

/// <summary>
/// Tells every worker that a job's cancellation was requested. The worker running it cancels at once;
/// the others ignore it. Workers also poll the database each second, so a lost message only delays.
/// </summary>
public static class JobCancellationChannel
{
    public static readonly RedisChannel Channel = RedisChannel.Literal("aspirellm:jobs:cancel");

    public static Task PublishAsync(IConnectionMultiplexer redis, Guid jobId) =>
        redis.GetSubscriber().PublishAsync(Channel, jobId.ToString("N"));
}
