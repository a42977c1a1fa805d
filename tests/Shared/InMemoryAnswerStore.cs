using System.Collections.Concurrent;
using AspireLlm.Orchestration.Caching;

namespace AspireLlm.Tests.Shared;

/// <summary>
/// An answer cache with no I/O, for tests and for measuring the cache paths' own cost apart from
/// the Redis round trip. Expiry is not modelled; entries live as long as the store.
/// </summary>
public sealed class InMemoryAnswerStore : IAnswerCacheStore
{
    private readonly ConcurrentDictionary<string, byte[]> _values = new();

    public ValueTask<byte[]?> GetAsync(string key) => ValueTask.FromResult(_values.TryGetValue(key, out var value) ? value : null);

    public void Set(string key, byte[] value, TimeSpan timeToLive) => _values[key] = value;
}
