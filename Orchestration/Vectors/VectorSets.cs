using System.Globalization;
using System.Runtime.InteropServices;
using StackExchange.Redis;

namespace AspireLlm.Orchestration.Vectors;

/// <summary>One element a vector search found, with its cosine similarity to the query (1 = same direction).</summary>
public readonly record struct VectorMatch(string Element, double Similarity);

/// <summary>
/// Redis vector sets (<c>VADD</c>, <c>VSIM</c>, <c>VREM</c>): Redis 8 in containers and production, Garnet
/// (started with <c>--enable-vector-set-preview</c>) on machines without either. Vectors are unit length.
/// The two servers score differently: Redis 8's <c>WITHSCORES</c> is a similarity in [0, 1] ((1 + cos) / 2),
/// Garnet's the squared Euclidean distance (2 − 2 cos for unit vectors); both are turned into the cosine here,
/// so thresholds mean the same on either. Which server it is, is asked once (<c>INFO server</c>).
/// </summary>
public sealed class VectorSets(IConnectionMultiplexer redis)
{
    /// <summary>The connection string (and keyed client) name of a Redis of its own for vectors; see <c>ResourceNames.Vectors</c>.</summary>
    public const string ConnectionName = "vectors";

    private Task<bool>? _isGarnet;

    /// <summary>The multiplexer the sets live on (entries stored beside them use it too).</summary>
    public IConnectionMultiplexer Redis => redis;

    /// <summary>Adds or replaces elements (pipelined). Vectors are stored as given, unquantised.</summary>
    public async Task AddAsync(string key, IReadOnlyList<(string Element, float[] Vector)> items)
    {
        var database = redis.GetDatabase();
        const int window = 64;
        var pending = new List<Task>(window);
        foreach (var (element, vector) in items)
        {
            pending.Add(database.ExecuteAsync("VADD", key, "FP32", Blob(vector), element, "NOQUANT"));
            if (pending.Count == window)
            {
                await Task.WhenAll(pending);
                pending.Clear();
            }
        }

        await Task.WhenAll(pending);
    }

    /// <summary>The <paramref name="count"/> nearest elements, best first; an absent set has none.</summary>
    /// <param name="exploration">How many candidates the graph search keeps (<c>EF</c>): more is slower and finds more of the true nearest.</param>
    public async Task<IReadOnlyList<VectorMatch>> SearchAsync(string key, float[] vector, int count, int exploration)
    {
        var garnet = await IsGarnetAsync();
        var result = await redis.GetDatabase().ExecuteAsync("VSIM", key, "FP32", Blob(vector), "WITHSCORES", "COUNT", count,
            "EF", Math.Max(exploration, count));
        if (result.IsNull || result.Resp2Type != ResultType.Array)
        {
            return [];
        }

        var items = (RedisResult[])result!;
        var matches = new List<VectorMatch>(items.Length / 2);
        for (var i = 0; i + 1 < items.Length; i += 2)
        {
            var score = double.Parse(items[i + 1].ToString(), NumberStyles.Float, CultureInfo.InvariantCulture);
            matches.Add(new VectorMatch(items[i].ToString(), garnet ? 1 - score / 2 : 2 * score - 1));
        }

        return matches;
    }

    public async Task RemoveAsync(string key, IEnumerable<string> elements)
    {
        var database = redis.GetDatabase();
        await Task.WhenAll(elements.Select(element => database.ExecuteAsync("VREM", key, element)));
    }

    public async Task<long> CountAsync(string key)
    {
        var result = await redis.GetDatabase().ExecuteAsync("VCARD", key);
        return result.IsNull ? 0 : (long)result;
    }

    public Task DeleteAsync(string key) => redis.GetDatabase().KeyDeleteAsync(key);

    /// <summary>Whether the server serves vector sets at all (Redis before 8 does not).</summary>
    public async Task<bool> IsSupportedAsync()
    {
        try
        {
            await redis.GetDatabase().ExecuteAsync("VCARD", "aspirellm:vectors:probe");
            return true;
        }
        catch (RedisServerException)
        {
            return false;
        }
    }

    private Task<bool> IsGarnetAsync() => _isGarnet ??= AskAsync();

    private async Task<bool> AskAsync()
    {
        try
        {
            var info = await redis.GetDatabase().ExecuteAsync("INFO", "server");
            return info.ToString().Contains("garnet_version", StringComparison.Ordinal);
        }
        catch (RedisException)
        {
            _isGarnet = null; // ask again next time
            throw;
        }
    }

    private static byte[] Blob(float[] vector) => MemoryMarshal.AsBytes(vector.AsSpan()).ToArray();
}
