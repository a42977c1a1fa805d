using System.Security.Cryptography;
using System.Text;

namespace AspireLlm.Api.ApiKeys;

/// <summary>
/// API keys are 160 random bits behind a recognisable <c>sk-llm-</c> prefix. Only their SHA-256 is
/// stored: the keys are long random secrets, so a fast unsalted hash is safe (there is nothing to
/// brute-force) and lets a lookup be a single indexed equality match.
/// </summary>
public static class ApiKeyFormat
{
    public const string Prefix = "sk-llm-";
    private const int PublicPrefixLength = 14;

    public static string Generate() =>
        Prefix + Convert.ToHexString(RandomNumberGenerator.GetBytes(20)).ToLowerInvariant();

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>The short public part shown in listings and logs to identify a key without revealing it.</summary>
    public static string PublicPrefix(string key) =>
        key.Length <= PublicPrefixLength ? key[..Math.Min(4, key.Length)] + "…" : key[..PublicPrefixLength];
}
