using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using StackExchange.Redis;

namespace AspireLlm.Api.Gateway;

/// <summary>
/// <c>Idempotency-Key</c> for chat completions, in Redis (no database write on the hot path): the
/// first request with a key claims it; a repeat with the same body gets the stored answer without a
/// provider call or a charge, 409 while the first is still running, and 422 with another body. Keys
/// are scoped to the API key. A first attempt that failed in a way worth retrying (429, 5xx) frees
/// the key, so the client's retry really retries.
/// </summary>
public sealed class ChatIdempotency(IConnectionMultiplexer redis)
{
    public static readonly TimeSpan Keep = TimeSpan.FromHours(24);

    /// <summary>How long a claim outlives a replica that died holding it.</summary>
    private static readonly TimeSpan ClaimFor = TimeSpan.FromMinutes(2);

    public async Task<IdempotencyClaim> ClaimAsync(Guid apiKeyId, string idempotencyKey, byte[] requestHash)
    {
        var key = (RedisKey)$"aspirellm:idem:chat:{apiKeyId:N}:{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(idempotencyKey)))}";
        var hash = Convert.ToHexStringLower(requestHash);
        var database = redis.GetDatabase();
        var running = JsonSerializer.Serialize(new StoredAnswer(hash, null, null, null));
        if (await database.StringSetAsync(key, running, ClaimFor, When.NotExists))
        {
            return new IdempotencyClaim(IdempotencyState.First, key, hash, null);
        }

        var existing = await database.StringGetAsync(key);
        if (existing.IsNull)
        {
            // Expired between the two calls: try once more.
            return await database.StringSetAsync(key, running, ClaimFor, When.NotExists)
                ? new IdempotencyClaim(IdempotencyState.First, key, hash, null)
                : new IdempotencyClaim(IdempotencyState.InProgress, key, hash, null);
        }

        var stored = JsonSerializer.Deserialize<StoredAnswer>(existing.ToString())!;
        return stored.Hash != hash ? new IdempotencyClaim(IdempotencyState.Mismatch, key, hash, null)
            : stored.Status is null ? new IdempotencyClaim(IdempotencyState.InProgress, key, hash, null)
            : new IdempotencyClaim(IdempotencyState.Replay, key, hash, stored);
    }

    /// <summary>Keeps the answer for replays, or frees the key when the failure deserves a real retry.</summary>
    public async Task CompleteAsync(IdempotencyClaim claim, int status, string body, bool streamed)
    {
        var database = redis.GetDatabase();
        if (status == StatusCodes.Status429TooManyRequests || status >= 500)
        {
            await database.KeyDeleteAsync(claim.Key);
            return;
        }

        await database.StringSetAsync(claim.Key, JsonSerializer.Serialize(new StoredAnswer(claim.Hash, status, body, streamed)), Keep);
    }

    /// <summary>The first request ended without an answer (the client went away): the key is free again.</summary>
    public Task ReleaseAsync(IdempotencyClaim claim) => redis.GetDatabase().KeyDeleteAsync(claim.Key);

    public sealed record StoredAnswer(string Hash, int? Status, string? Body, bool? Streamed);
}

public enum IdempotencyState
{
    First,
    Replay,
    InProgress,
    Mismatch,
}

public sealed record IdempotencyClaim(IdempotencyState State, RedisKey Key, string Hash, ChatIdempotency.StoredAnswer? Stored);
