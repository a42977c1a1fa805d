namespace AspireLlm.Api.Hosting;

/// <summary>
/// Whether socket work runs where it completes instead of being handed to the thread pool. The runtime
/// reads <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c> at start and then runs socket completions
/// (Redis, the provider's HTTP) on its epoll thread; Kestrel does the same for requests when
/// <c>UnsafePreferInlineScheduling</c> is on, so one setting turns on both. Each hand-off to the pool
/// costs a thread wake-up, and on a one-CPU replica a context switch is several microseconds of kernel
/// time (README "Benchmarks"). It is safe only because nothing on the request path blocks: huge prompts
/// and local embeddings run on threads of their own (<c>Orchestration/Tokens/BackgroundCpuWork.cs</c>).
/// </summary>
internal static class InlineSocketCompletions
{
    public const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    public static bool Enabled { get; } = Environment.GetEnvironmentVariable(Variable) == "1";
}
