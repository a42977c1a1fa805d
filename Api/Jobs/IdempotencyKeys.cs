using System.Security.Cryptography;

namespace AspireLlm.Api.Jobs;

/// <summary>The rules for <c>Idempotency-Key</c>: what a key may look like and when two requests match.</summary>
public static class IdempotencyKeys
{
    public const int MaxLength = 255;
    public const string Rule = "The Idempotency-Key must be 1 to 255 printable ASCII characters.";

    public static bool IsValid(string key) =>
        key.Length is > 0 and <= MaxLength && key.All(c => c is >= '!' and <= '~');

    /// <summary>Two requests under one key match when their canonical body hashes are equal.</summary>
    public static bool SameRequest(byte[] first, byte[] second) => CryptographicOperations.FixedTimeEquals(first, second);
}
