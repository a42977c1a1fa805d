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

    /// <summary>
    /// The short public part shown in listings and logs to identify a key without revealing it: the
    /// first characters of one of our keys (most of its 160 random bits stay secret), or a hash
    /// fingerprint of any other key (an operator-chosen admin key may be short).
    /// </summary>
    public static string PublicPrefix(string key) =>
        key.StartsWith(Prefix, StringComparison.Ordinal) && key.Length >= Prefix.Length + 40
            ? key[..PublicPrefixLength]
            : "key#" + Convert.ToHexString(Hash(key))[..8].ToLowerInvariant();
}
