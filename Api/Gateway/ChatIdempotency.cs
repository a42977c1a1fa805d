using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AspireLlm.Orchestration.Encryption;
using StackExchange.Redis;

namespace AspireLlm.Api.Gateway;

/// <summary>
/// <c>Idempotency-Key</c> for chat completions, in Redis (no database write on the hot path): the
/// first request with a key claims it; a repeat with the same body gets the stored answer without a
/// provider call or a charge, 409 while the first is still running, and 422 with another body. Keys
/// are scoped to the API key. A first attempt that failed in a way worth retrying (429, 5xx) frees
/// the key, so the client's retry really retries. The kept answer is customer content: its body is
/// sealed (bound to the Redis key); the hash, status and claim owner stay readable for the checks.
/// </summary>
public sealed class ChatIdempotency(IConnectionMultiplexer redis, ContentCipher cipher)
{
    public static readonly TimeSpan Keep = TimeSpan.FromHours(24);

    /// <summary>Replaces the claim only if it is still ours: a claim that expired may belong to another request now.</summary>
    private const string IfStillOurs = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
        if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
        return 1
        """;

    /// <param name="claimFor">How long the claim holds: longer than the request may run, so a repeat meanwhile gets 409.</param>
    public async Task<IdempotencyClaim> ClaimAsync(Guid apiKeyId, string idempotencyKey, byte[] requestHash, TimeSpan claimFor)
    {
        var key = (RedisKey)$"aspirellm:idem:chat:{apiKeyId:N}:{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(idempotencyKey)))}";
        var hash = Convert.ToHexStringLower(requestHash);
        var database = redis.GetDatabase();
        // The owner id makes each claim's value unique, so completing or releasing can tell it is still ours.
        var running = JsonSerializer.Serialize(new StoredAnswer(hash, null, null, null, Guid.NewGuid()));
        if (await database.StringSetAsync(key, running, claimFor, When.NotExists))
        {
            return new IdempotencyClaim(IdempotencyState.First, key, hash, null, running);
        }

        var existing = await database.StringGetAsync(key);
        if (existing.IsNull)
        {
            // Expired between the two calls: try once more.
            return await database.StringSetAsync(key, running, claimFor, When.NotExists)
                ? new IdempotencyClaim(IdempotencyState.First, key, hash, null, running)
                : new IdempotencyClaim(IdempotencyState.InProgress, key, hash, null, null);
        }

        var stored = JsonSerializer.Deserialize<StoredAnswer>(existing.ToString())!;
        return stored.Hash != hash ? new IdempotencyClaim(IdempotencyState.Mismatch, key, hash, null, null)
            : stored.Status is null ? new IdempotencyClaim(IdempotencyState.InProgress, key, hash, null, null)
            : new IdempotencyClaim(IdempotencyState.Replay, key, hash, Opened(stored, key), null);
    }

    /// <summary>Keeps the answer for replays, or frees the key when the failure deserves a real retry.</summary>
    public Task CompleteAsync(IdempotencyClaim claim, int status, string body, bool streamed) =>
        status == StatusCodes.Status429TooManyRequests || status >= 500
            ? ReleaseAsync(claim)
            : ReplaceIfOursAsync(claim, JsonSerializer.Serialize(
                new StoredAnswer(claim.Hash, status, null, streamed, null, cipher.Seal(body, SealContext.ForRedisKey(claim.Key!)))));

    /// <summary>The first request ended without an answer (the client went away, or it failed): the key is free again.</summary>
    public Task ReleaseAsync(IdempotencyClaim claim) => ReplaceIfOursAsync(claim, "");

    private Task ReplaceIfOursAsync(IdempotencyClaim claim, string value) =>
        redis.GetDatabase().ScriptEvaluateAsync(IfStillOurs, [claim.Key], [claim.Claimed, value, (long)Keep.TotalMilliseconds]);

    /// <summary>The stored answer with its body opened; an answer kept before bodies were sealed has it in <c>Body</c> already.</summary>
    private StoredAnswer Opened(StoredAnswer stored, RedisKey key) => stored.SealedBody is { } sealedBody
        ? stored with { Body = cipher.OpenString(sealedBody, SealContext.ForRedisKey(key!)), SealedBody = null }
        : stored;

    /// <param name="Body">The answer, in memory only: what Redis holds is <paramref name="SealedBody"/>.</param>
    public sealed record StoredAnswer(string Hash, int? Status, string? Body, bool? Streamed, Guid? Owner, byte[]? SealedBody = null);
}

public enum IdempotencyState
{
    First,
    Replay,
    InProgress,
    Mismatch,
}

/// <param name="Claimed">The value this request wrote when it claimed the key; null when it did not.</param>
public sealed record IdempotencyClaim(IdempotencyState State, RedisKey Key, string Hash, ChatIdempotency.StoredAnswer? Stored, string? Claimed);
