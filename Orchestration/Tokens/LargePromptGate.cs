using System.Threading.RateLimiting;
using Microsoft.Extensions.AI;

namespace AspireLlm.Orchestration.Tokens;

/// <summary>
/// Bounds how much of the machine the CPU work on very large prompts may take at once. Counting (and
/// redacting) a prompt costs up to a few hundred nanoseconds a character, so a 1 MiB prompt holds a
/// core for a few hundred milliseconds; a handful of clients sending such prompts in a loop would take
/// every core from everyone else's requests. Prompts over <see cref="Threshold"/> characters do that
/// work one (or cores − 1) at a time, in arrival order; when too many wait, the call is refused as
/// busy (503 with Retry-After) instead of queueing without bound. Small prompts never wait here.
/// </summary>
public static class LargePromptGate
{
    /// <summary>About 16 000 tokens of prose: prompts this large are rare and each costs milliseconds to count.</summary>
    public const int Threshold = 64 * 1024;

    private const int QueueLimit = 32;

    private static readonly ConcurrencyLimiter Limiter = new(new ConcurrencyLimiterOptions
    {
        PermitLimit = Math.Max(1, Environment.ProcessorCount - 1),
        QueueLimit = QueueLimit,
        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
    });

    /// <summary>
    /// Runs <paramref name="work"/>: at once when <paramref name="characters"/> is small; otherwise after
    /// waiting for a turn, on a thread of its own (<see cref="BackgroundCpuWork"/>)
    /// rather than one of the thread pool's. A one-CPU
    /// replica starts with a single pool thread and adds more only about once a second: a pool thread
    /// held for a few hundred milliseconds by a huge prompt left health probes and every other request
    /// queued behind it (bench/run-hostile-bench.sh: /health p99 1.3 s under 8 hostile clients).
    /// </summary>
    public static async ValueTask<T> RunAsync<T>(long characters, Func<T> work, CancellationToken cancellationToken)
    {
        if (characters < Threshold)
        {
            return work();
        }

        using var lease = await Limiter.AcquireAsync(1, cancellationToken);
        if (!lease.IsAcquired)
        {
            throw new ServerBusyException("Too many very large prompts are being processed; retry shortly.", TimeSpan.FromSeconds(1));
        }

        return await BackgroundCpuWork.RunAsync(work, cancellationToken);
    }

    /// <summary>Characters of text in <paramref name="messages"/> and the request's tools and schema, as tokenising sees them.</summary>
    public static long CharactersOf(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        long total = options?.Instructions?.Length ?? 0;
        foreach (var message in messages)
        {
            foreach (var content in message.Contents)
            {
                total += content switch
                {
                    TextContent text => text.Text.Length,
                    FunctionResultContent result => result.Result?.ToString()?.Length ?? 0,
                    FunctionCallContent call => call.Arguments?.Sum(argument => argument.Key.Length + (argument.Value?.ToString()?.Length ?? 0)) ?? 0,
                    _ => 0,
                };
            }
        }

        foreach (var tool in options?.Tools ?? [])
        {
            total += (tool.Description?.Length ?? 0) + (tool is AIFunctionDeclaration function ? function.JsonSchema.GetRawText().Length : 0);
        }

        return total;
    }
}

/// <summary>This replica is too busy for the call right now; retrying after <see cref="RetryAfter"/> is likely to work.</summary>
public sealed class ServerBusyException(string message, TimeSpan retryAfter) : Exception(message)
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}
