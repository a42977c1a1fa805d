using System.Collections.Concurrent;
using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace AspireLlm.Orchestration.Tokens;

/// <summary>
/// Token counts of the texts a caller sends again and again. A chat request carries the system prompt,
/// the tool definitions and the whole conversation so far on every turn, so counting each request from
/// scratch makes the cost of a turn grow with the conversation; with these counts only the new text is
/// tokenised.
/// <para>
/// An entry is a 128-bit hash of the caller's scope (its tenant), the encoding and the text, and the count:
/// no text is kept, and no tenant's requests can find, or time, another tenant's entries. The hash is
/// seeded per process, so nobody outside can aim texts at one entry. Written by hand rather than with a
/// cache library: a dictionary that starts over when full is all this needs, since a lost entry costs
/// only a recount.
/// </para>
/// </summary>
internal sealed class RepeatedTextCounts
{
    /// <summary>Shorter texts are tokenised in about the time a lookup takes; they are not kept.</summary>
    public const int MinimumLength = 64;

    /// <summary>About 1 MiB of entries at most.</summary>
    public const int Capacity = 16_384;

    private static readonly long ProcessSeed = Random.Shared.NextInt64();

    private readonly ConcurrentDictionary<UInt128, int> _counts = new();
    private int _added;

    /// <summary>The number of entries, for tests (counting a <see cref="ConcurrentDictionary{TKey,TValue}"/> takes all its locks).</summary>
    internal int Count => _counts.Count;

    /// <summary>The seed of one scope's keys for one encoding.</summary>
    public static long SeedFor(string scope, TokenEncoding encoding) =>
        (long)XxHash3.HashToUInt64(MemoryMarshal.AsBytes(scope.AsSpan()), ProcessSeed ^ (long)encoding);

    public static UInt128 KeyOf(long seed, string text) => XxHash128.HashToUInt128(MemoryMarshal.AsBytes(text.AsSpan()), seed);

    public bool TryGet(UInt128 key, out int tokens) => _counts.TryGetValue(key, out tokens);

    public void Add(UInt128 key, int tokens)
    {
        if (Interlocked.Increment(ref _added) > Capacity)
        {
            // Starting over is cheaper than tracking what was used least, and a conversation's texts come
            // back on its next turn anyway.
            _counts.Clear();
            Interlocked.Exchange(ref _added, 1);
        }

        _counts[key] = tokens;
    }
}
