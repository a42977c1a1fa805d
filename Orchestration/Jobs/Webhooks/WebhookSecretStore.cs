using System.Security.Cryptography;
using AspireLlm.Orchestration.Encryption;
using Npgsql;

namespace AspireLlm.Orchestration.Jobs.Webhooks;

/// <summary>
/// Each API key's webhook signing secret, sealed in <c>api_keys.webhook_secret</c> (bound to the
/// key's id). A key gets its secret on first use, from whichever of the Api (<c>GET
/// /v1/webhooks/secret</c>) or a Worker (its first webhook) asks first; both then read the same one.
/// </summary>
public sealed class WebhookSecretStore(NpgsqlDataSource dataSource, ContentCipher cipher)
{
    /// <summary>The key's secret, made now if it has none; null when there is no such key.</summary>
    public async Task<string?> FindOrCreateAsync(Guid apiKeyId, CancellationToken cancellationToken)
    {
        var (exists, sealedSecret) = await ReadAsync(apiKeyId, cancellationToken);
        if (!exists || sealedSecret is not null)
        {
            return sealedSecret is null ? null : Open(apiKeyId, sealedSecret);
        }

        var secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        await using var create = dataSource.CreateCommand("UPDATE api_keys SET webhook_secret = $2 WHERE id = $1 AND webhook_secret IS NULL");
        create.Parameters.AddWithValue(apiKeyId);
        create.Parameters.AddWithValue(cipher.Seal(secret, Context(apiKeyId)));
        if (await create.ExecuteNonQueryAsync(cancellationToken) == 1)
        {
            return secret;
        }

        // Another process made it first: theirs is the one.
        var (_, theirs) = await ReadAsync(apiKeyId, cancellationToken);
        return Open(apiKeyId, theirs!);
    }

    /// <summary>Like <see cref="FindOrCreateAsync"/> for a key known to exist.</summary>
    public async Task<string> GetOrCreateAsync(Guid apiKeyId, CancellationToken cancellationToken) =>
        await FindOrCreateAsync(apiKeyId, cancellationToken) ?? throw new InvalidOperationException($"API key {apiKeyId} does not exist.");

    internal string Open(Guid apiKeyId, byte[] sealedSecret) => cipher.OpenString(sealedSecret, Context(apiKeyId));

    private static byte[] Context(Guid apiKeyId) => SealContext.For(SealContext.WebhookSecret, apiKeyId);

    private async Task<(bool Exists, byte[]? Sealed)> ReadAsync(Guid apiKeyId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT webhook_secret FROM api_keys WHERE id = $1");
        command.Parameters.AddWithValue(apiKeyId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return !await reader.ReadAsync(cancellationToken) ? (false, null) : (true, reader.IsDBNull(0) ? null : reader.GetFieldValue<byte[]>(0));
    }
}
