namespace AspireLlm.Orchestration.Encryption;

/// <summary>
/// The keyring that customer content is sealed with at rest, bound from <c>Encryption</c>. New values
/// are sealed with <see cref="ActiveKeyId"/>; every key listed can still open the values it sealed,
/// so a key is rotated by adding a new one and making it active, and retired only once nothing
/// sealed with it is left (content past retention is purged; Redis values expire within a day).
/// </summary>
public sealed class EncryptionOptions
{
    public const string SectionName = "Encryption";

    /// <summary>
    /// The setting the first key came from before there was a keyring (the AppHost's
    /// <c>conversation-key</c> secret). When set, it is the key <see cref="DefaultKeyId"/>.
    /// </summary>
    public const string DefaultKeySetting = "Conversations:EncryptionKey";

    /// <summary>The id of the key derived from <see cref="DefaultKeySetting"/>.</summary>
    public const string DefaultKeyId = "k1";

    public const int MinimumSecretLength = 32;

    /// <summary>
    /// Key id (1 to 32 of <c>A-Z a-z 0-9 . _ -</c>) → a secret of at least 32 characters, the same
    /// on every replica; the AES-256 key is derived from it with HKDF-SHA256.
    /// </summary>
    public Dictionary<string, string> Keys { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The key new values are sealed with; may be left out when there is only one key.</summary>
    public string? ActiveKeyId { get; set; }
}
