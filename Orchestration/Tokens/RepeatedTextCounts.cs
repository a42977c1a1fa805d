using System.Collections.Concurrent;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace AspireLlm.Orchestration.Tokens;

/// <summary>
/// Token counts of the texts a caller sends again and again. A chat request carries the system prompt,
/// the tool definitions and the whole conversation so far on every turn, so counting each request from
/// scratch makes the cost of a turn grow with the conversation; with these counts only the new text is
/// tokenised.
/// <para>
/// Each scope (a tenant) has counts of its own, so no tenant can find, time or push out another's. An
/// entry is a 128-bit hash of the encoding and the text, and the count: no text is kept. The hash is
/// seeded per process from a cryptographic source, so nobody outside can aim texts at one entry. Written
/// by hand rather than with a cache library: a dictionary that starts over when full is all this needs,
/// since a lost entry costs only a recount.
/// </para>
/// </summary>
internal sealed class RepeatedTextCounts
{
    /// <summary>Shorter texts are tokenised in about the time a lookup takes; they are not kept.</summary>
    public const int MinimumLength = 64;

    /// <summary>Entries per scope (about 200 KiB): some hundred conversations' texts.</summary>
    public const int CapacityPerScope = 4_096;

    /// <summary>
    /// Scopes kept at once, which bounds the whole at about 13 MiB. Past it, all start over: scopes are
    /// tenants, which only administrators create.
    /// </summary>
    public const int MaxScopes = 64;

    private static readonly long ProcessSeed = BitConverter.ToInt64(RandomNumberGenerator.GetBytes(sizeof(long)));

    private readonly ConcurrentDictionary<string, ScopeCounts> _scopes = new(StringComparer.Ordinal);
    private int _scopeCount;

    /// <summary>The entries of one scope, for tests.</summary>
    internal int CountOf(string scope) => _scopes.TryGetValue(scope, out var counts) ? counts.Count : 0;

    public static UInt128 KeyOf(TokenEncoding encoding, string text) =>
        XxHash128.HashToUInt128(MemoryMarshal.AsBytes(text.AsSpan()), ProcessSeed ^ (long)encoding);

    /// <summary>The counts of <paramref name="scope"/>, made on its first use.</summary>
    public ScopeCounts For(string scope)
    {
        if (_scopes.TryGetValue(scope, out var counts))
        {
            return counts;
        }

        if (Interlocked.Increment(ref _scopeCount) > MaxScopes)
        {
            _scopes.Clear();
            Interlocked.Exchange(ref _scopeCount, 1);
        }

        return _scopes.GetOrAdd(scope, _ => new ScopeCounts());
    }

    /// <summary>One scope's counts.</summary>
    internal sealed class ScopeCounts
    {
        private readonly ConcurrentDictionary<UInt128, int> _counts = new();
        private int _added;

        /// <summary>The number of entries (counting a <see cref="ConcurrentDictionary{TKey,TValue}"/> takes all its locks).</summary>
        internal int Count => _counts.Count;

        public bool TryGet(UInt128 key, out int tokens) => _counts.TryGetValue(key, out tokens);

        public void Add(UInt128 key, int tokens)
        {
            if (Interlocked.Increment(ref _added) > CapacityPerScope)
            {
                // Starting over is cheaper than tracking what was used least, and a conversation's texts
                // come back on its next turn anyway.
                _counts.Clear();
                Interlocked.Exchange(ref _added, 1);
            }

            _counts[key] = tokens;
        }
    }
}
