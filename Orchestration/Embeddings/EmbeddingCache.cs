using AspireLlm.Orchestration.Encryption;
using StackExchange.Redis;

namespace AspireLlm.Orchestration.Embeddings;

/// <summary>
/// Embeddings in Redis by keyed content hash (tenant, model, text; see <see cref="Retrieval.LexicalHasher.ContentHash"/>),
/// sealed, for a week: the same text indexed again (in another collection, or after a delete) is not
/// embedded again. Postgres keeps the embeddings an index needs; this only saves computing. Redis
/// trouble is a miss.
/// </summary>
public sealed class EmbeddingCache(IConnectionMultiplexer redis, ContentCipher cipher)
{
    public static readonly TimeSpan Ttl = TimeSpan.FromDays(7);
    private const string Prefix = "aspirellm:emb:v1:";

    public async Task<float[]?[]> GetAsync(IReadOnlyList<byte[]> hashes)
    {
        try
        {
            var keys = hashes.Select(hash => (RedisKey)(Prefix + Convert.ToHexStringLower(hash))).ToArray();
            var values = await redis.GetDatabase().StringGetAsync(keys);
            return [.. values.Select((value, i) => value.IsNull ? null
                : Retrieval.CollectionStore.VectorOf(cipher.Open((byte[])value!, SealContext.ForRedisKey(keys[i]!))))];
        }
        catch (Exception exception) when (exception is RedisException or RedisTimeoutException or System.Security.Cryptography.CryptographicException)
        {
            return new float[]?[hashes.Count];
        }
    }

    public async Task SetAsync(IReadOnlyList<(byte[] Hash, float[] Vector)> entries)
    {
        try
        {
            var database = redis.GetDatabase();
            await Task.WhenAll(entries.Select(entry =>
            {
                var key = Prefix + Convert.ToHexStringLower(entry.Hash);
                return database.StringSetAsync(key, cipher.Seal(Retrieval.CollectionStore.VectorBytes(entry.Vector), SealContext.ForRedisKey(key)), Ttl);
            }));
        }
        catch (Exception exception) when (exception is RedisException or RedisTimeoutException)
        {
            // Only a saving is lost.
        }
    }
}
