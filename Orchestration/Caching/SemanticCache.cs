using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using AspireLlm.Orchestration.Embeddings;
using AspireLlm.Orchestration.Encryption;
using AspireLlm.Orchestration.Vectors;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace AspireLlm.Orchestration.Caching;

/// <summary>
/// Stored answers found by meaning. The scope of a question is everything that must match exactly
/// (tenant, alias, system prompt, earlier turns, tools, generation parameters: the exact cache's key
/// over the request with the last user message blanked out); each scope is one Redis vector set of
/// the embedded last user messages, and each answer a sealed value beside it holding the question it
/// answered. A lookup takes the nearest few above <see cref="SemanticCacheOptions.Threshold"/> and
/// serves the first whose question also passes <see cref="SemanticGuard"/>. Trouble with Redis or the
/// embedding model is a miss, never an error.
/// </summary>
public sealed partial class SemanticCache(
    VectorSets vectors, EmbeddingCatalog embeddings, ContentCipher cipher, SemanticCacheOptions options, ILogger<SemanticCache> logger)
{
    public const string Prefix = "aspirellm:scache:v1:";

    private static readonly JsonTypeInfo<ChatResponse> ResponseJson =
        (JsonTypeInfo<ChatResponse>)AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(ChatResponse));

    public SemanticCacheOptions Options => options;

    /// <summary>What a lookup learned, so a miss can be stored without embedding the question again.</summary>
    public sealed record Probe(string Scope, string Question, float[] Vector);

    /// <summary>The question a request asks, when it is eligible: few enough turns, a last message from the user in plain text.</summary>
    public string? QuestionOf(IReadOnlyList<ChatMessage> messages)
    {
        if (messages.Count == 0 || messages[^1].Role != ChatRole.User
            || messages[^1].Contents.Any(content => content is not TextContent)
            || messages.Count(message => message.Role == ChatRole.User) > options.MaxTurns)
        {
            return null;
        }

        var question = messages[^1].Text.Trim();
        return question.Length is > 0 and <= SemanticCacheOptions.MaxQuestionCharacters ? question : null;
    }

    /// <summary>Whether two questions, <paramref name="similarity"/> apart, may share an answer: the whole decision.</summary>
    public bool Accepts(double similarity, string question, string cachedQuestion) => Accepts(similarity, options.Threshold, question, cachedQuestion);

    /// <summary>The decision, for a given threshold (the evaluation set's test calls it with each).</summary>
    public static bool Accepts(double similarity, double threshold, string question, string cachedQuestion) =>
        similarity >= threshold && SemanticGuard.Difference(question, cachedQuestion) is null;

    /// <param name="questionVector">The question's embedding when the caller has it (it is computed otherwise).</param>
    public async Task<(ChatResponse? Hit, Probe? Probe)> LookupAsync(
        string tenant, string alias, IReadOnlyList<ChatMessage> messages, ChatOptions chatOptions, string question, CancellationToken cancellationToken,
        float[]? questionVector = null)
    {
        try
        {
            var scope = ScopeOf(tenant, alias, messages, chatOptions);
            questionVector ??= (await embeddings.GenerateAsync(options.EmbeddingModel, [question], dimensions: null, cancellationToken)).Embeddings[0].Vector.ToArray();
            var probe = new Probe(scope, question, questionVector);
            var matches = await vectors.SearchAsync(scope, probe.Vector, options.Candidates, options.Candidates * 8);
            var candidates = matches.Where(match => match.Similarity >= options.Threshold).ToList();
            if (candidates.Count == 0)
            {
                return (null, probe);
            }

            var values = await vectors.Redis.GetDatabase().StringGetAsync([.. candidates.Select(match => (RedisKey)EntryKey(match.Element))]);
            for (var i = 0; i < candidates.Count; i++)
            {
                if (values[i].IsNull)
                {
                    // Expired: its set element goes too.
                    _ = vectors.RemoveAsync(scope, [candidates[i].Element]);
                    continue;
                }

                var (cachedQuestion, response) = Open(EntryKey(candidates[i].Element), (byte[])values[i]!);
                if (Accepts(candidates[i].Similarity, question, cachedQuestion))
                {
                    return (response, probe);
                }

                LogGuarded(logger, SemanticGuard.Difference(question, cachedQuestion) ?? "threshold");
            }

            return (null, probe);
        }
        catch (Exception exception) when (exception is RedisException or RedisTimeoutException or ObjectDisposedException
                                          or Routing.ModelUnavailableException or CryptographicException or JsonException)
        {
            LogUnavailable(logger, exception.GetType().Name);
            return (null, null);
        }
    }

    /// <summary>Keeps a complete answer for later equivalent questions; without waiting, and quietly on failure.</summary>
    public async Task StoreAsync(Probe probe, ChatResponse response)
    {
        if (!ExactCacheChatClient.IsStorable(response))
        {
            return;
        }

        try
        {
            if (await vectors.CountAsync(probe.Scope) >= options.MaxEntriesPerScope)
            {
                return;
            }

            var id = Guid.NewGuid().ToString("N");
            var key = EntryKey(id);
            var question = Encoding.UTF8.GetBytes(probe.Question);
            var json = JsonSerializer.SerializeToUtf8Bytes(response, ResponseJson);
            var value = new byte[sizeof(int) + question.Length + json.Length];
            BinaryPrimitives.WriteInt32BigEndian(value, question.Length);
            question.CopyTo(value.AsSpan(sizeof(int)));
            json.CopyTo(value.AsSpan(sizeof(int) + question.Length));
            var database = vectors.Redis.GetDatabase();
            await database.StringSetAsync(key, cipher.Seal(value, SealContext.ForRedisKey(key)), options.Ttl);
            await vectors.AddAsync(probe.Scope, [(id, probe.Vector)]);
            // The set outlives its newest entry a little; elements whose entries expired are dropped when met.
            await database.KeyExpireAsync(probe.Scope, options.Ttl + TimeSpan.FromMinutes(5));
        }
        catch (Exception exception) when (exception is RedisException or RedisTimeoutException or ObjectDisposedException)
        {
            LogUnavailable(logger, exception.GetType().Name);
        }
    }

    private (string Question, ChatResponse Response) Open(string key, byte[] sealedValue)
    {
        var value = cipher.Open(sealedValue, SealContext.ForRedisKey(key));
        var length = BinaryPrimitives.ReadInt32BigEndian(value);
        var question = Encoding.UTF8.GetString(value, sizeof(int), length);
        var response = JsonSerializer.Deserialize(value.AsSpan(sizeof(int) + length), ResponseJson)!;
        return (question, response);
    }

    /// <summary>The exact cache's key of the request with its last message blanked out: what must match exactly.</summary>
    public static string ScopeOf(string tenant, string alias, IReadOnlyList<ChatMessage> messages, ChatOptions chatOptions)
    {
        var blanked = messages.Take(messages.Count - 1).Append(new ChatMessage(ChatRole.User, "\u0000semantic\u0000"));
        return Prefix + "set:" + CacheKey.Compute(tenant, alias, blanked, chatOptions)[CacheKey.Prefix.Length..];
    }

    private static string EntryKey(string id) => Prefix + "entry:" + id;

    [LoggerMessage(EventId = 1501, Level = LogLevel.Warning, Message = "The semantic cache is unavailable ({Error}); treated as a miss.")]
    private static partial void LogUnavailable(ILogger logger, string error);

    [LoggerMessage(EventId = 1502, Level = LogLevel.Debug, Message = "A similar cached question was refused by the guard ({Reason}).")]
    private static partial void LogGuarded(ILogger logger, string reason);
}

/// <summary>The semantic cache, bound from <c>Orchestration:SemanticCache</c>; used by aliases with <c>Cache: Semantic</c>.</summary>
public sealed class SemanticCacheOptions
{
    public const string SectionName = "Orchestration:SemanticCache";

    /// <summary>Longer questions are not eligible: the embedding reads only the first 256 word pieces, and FAQ questions are short.</summary>
    public const int MaxQuestionCharacters = 1000;

    /// <summary>The embedding alias questions are embedded with (the local model by default: no key, no cost).</summary>
    [System.ComponentModel.DataAnnotations.Required]
    public string EmbeddingModel { get; set; } = "all-minilm-l6-v2";

    /// <summary>
    /// Lowest cosine similarity of a candidate; it must also pass the guard. Calibrated on the evaluation set:
    /// 0.90 is the lowest that makes no false hit there (at 0.86 one pair of names written in lower case,
    /// "windows" and "linux", which the guard cannot tell from ordinary words, scored 0.89).
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(0.5, 1.0)]
    public double Threshold { get; set; } = 0.90;

    /// <summary>How many user turns a request may have and still be eligible (1: single-turn only).</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 20)]
    public int MaxTurns { get; set; } = 1;

    /// <summary>Nearest stored questions looked at per lookup.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 20)]
    public int Candidates { get; set; } = 3;

    /// <summary>How long a stored answer is served.</summary>
    public TimeSpan Ttl { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Stored questions per scope; beyond it new answers are not stored (a scope that never repeats gains nothing).</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 1_000_000)]
    public int MaxEntriesPerScope { get; set; } = 10_000;
}
