using AspireLlm.ServiceDefaults;
using StackExchange.Redis;

namespace AspireLlm.Api.Hosting;

/// <summary>
/// Whether socket work runs where it completes instead of being handed to the thread pool. The runtime
/// reads <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c> at start and then runs socket completions
/// (Redis, the provider's HTTP) on its epoll thread; Kestrel does the same for requests when
/// <c>UnsafePreferInlineScheduling</c> is on, so one setting turns on both. Each hand-off to the pool
/// costs a thread wake-up, and on a one-CPU replica a context switch is several microseconds of kernel
/// time (README "Benchmarks"). It is safe only while nothing on a request's path blocks on I/O: huge
/// prompts and local embeddings run on threads of their own (<c>Orchestration/Tokens/BackgroundCpuWork.cs</c>),
/// and the Redis clients are connected before the first request (<see cref="ConnectRedisClients"/>).
/// </summary>
internal static class InlineSocketCompletions
{
    public const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    public static bool Enabled { get; } = Environment.GetEnvironmentVariable(Variable) == "1";

    /// <summary>
    /// Connects the Redis clients now, on the start-up thread. Aspire's clients connect synchronously on
    /// first use; a first use on the epoll thread would wait for Redis's replies that only that same
    /// thread can read, and time out, again and again (a fresh-clone CI run saw the vectors client do
    /// that on a request's path, 5 s per attempt).
    /// </summary>
    public static void ConnectRedisClients(this WebApplication app)
    {
        if (!Enabled)
        {
            return;
        }

        _ = app.Services.GetRequiredService<IConnectionMultiplexer>();
        _ = app.Services.GetKeyedService<IConnectionMultiplexer>(ResourceNames.Vectors);
    }
}
