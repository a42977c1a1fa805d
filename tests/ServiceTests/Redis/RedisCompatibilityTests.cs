using AspireLlm.Tests.Shared;
using StackExchange.Redis;

namespace AspireLlm.ServiceTests.Redis;

/// <summary>
/// What AspireLlm uses of Redis, checked on both servers the AppHost may run: redis-server (what
/// production runs) and Garnet (the fallback where neither containers nor redis-server exist).
/// </summary>
public sealed class RedisCompatibilityTests
{
    public static TheoryData<string> Servers()
    {
        var servers = new TheoryData<string> { "garnet" };
        if (ServerProcess.RedisServerInstalled)
        {
            servers.Add("redis-server");
        }

        return servers;
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task Strings_expiry_counters_and_hashes(string server)
    {
        using var redis = await ConnectAsync(server);
        var db = redis.Multiplexer.GetDatabase();

        await db.StringSetAsync("k", "v", TimeSpan.FromSeconds(30));
        Assert.Equal("v", (string?)await db.StringGetAsync("k"));
        Assert.InRange((await db.KeyTimeToLiveAsync("k"))!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
        Assert.Equal(5, await db.StringIncrementAsync("n", 5));
        Assert.Equal(2.5, await db.StringIncrementAsync("f", 2.5));
        await db.HashSetAsync("h", [new("a", 1), new("b", 2)]);
        Assert.Equal(2, (await db.HashGetAllAsync("h")).Length);
        Assert.False(await db.StringSetAsync("k", "other", when: When.NotExists));
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task Lua_scripts_are_atomic_under_concurrency(string server)
    {
        using var redis = await ConnectAsync(server);
        // A limiter in miniature: admit while the counter is below 100. Eight connections race.
        const string script = """
            local current = tonumber(redis.call('GET', KEYS[1]) or '0')
            if current < tonumber(ARGV[1]) then
              redis.call('SET', KEYS[1], current + 1)
              return 1
            end
            return 0
            """;
        var connections = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => ConnectionMultiplexer.ConnectAsync(redis.ConnectionString)));
        try
        {
            var admitted = await Task.WhenAll(connections.SelectMany(c => Enumerable.Range(0, 40).Select(_ =>
                c.GetDatabase().ScriptEvaluateAsync(script, [new RedisKey("limit")], [100]))));

            Assert.Equal(100, admitted.Count(result => (int)result == 1));
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task Pub_sub_delivers_to_a_pattern_subscriber(string server)
    {
        using var redis = await ConnectAsync(server);
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await redis.Multiplexer.GetSubscriber().SubscribeAsync(RedisChannel.Pattern("jobs:*"), (_, message) => received.TrySetResult(message!));

        await redis.Multiplexer.GetSubscriber().PublishAsync(RedisChannel.Literal("jobs:42"), "progress");

        Assert.Equal("progress", await received.Task.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    private static async Task<RunningRedis> ConnectAsync(string server)
    {
        var directory = LocalInfrastructure.CreateRunDirectory();
        var (process, connectionString) = ServerProcess.StartRedis(directory, preferGarnet: server == "garnet");
        var multiplexer = await ConnectionMultiplexer.ConnectAsync(connectionString);
        return new RunningRedis(process, multiplexer, connectionString, directory);
    }

    private sealed record RunningRedis(ServerProcess Server, ConnectionMultiplexer Multiplexer, string ConnectionString, string Directory)
        : IDisposable
    {
        public void Dispose()
        {
            Multiplexer.Dispose();
            Server.Dispose();
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }
}
