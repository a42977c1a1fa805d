namespace AspireLlm.Api.Conversations;

public sealed class ConversationOptions
{
    public const string SectionName = "Conversations";

    /// <summary>
    /// A secret of at least 32 characters, the same on every replica (the AppHost generates and keeps
    /// it as a secret parameter); the AES key is derived from it with HKDF-SHA256. Without it,
    /// conversations are unavailable rather than stored in the clear.
    /// </summary>
    public string? EncryptionKey { get; set; }

    /// <summary>How many past messages are sent with each turn (the newest ones).</summary>
    public int MaxHistoryMessages { get; set; } = 100;
}
