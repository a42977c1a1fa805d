namespace AspireLlm.Api.Conversations;

public sealed class ConversationOptions
{
    public const string SectionName = "Conversations";

    /// <summary>
    /// A secret of at least 32 characters, the same on every replica (the AppHost generates and keeps
    /// it as a secret parameter). It is the content keyring's default key <c>k1</c> (see
    /// <see cref="Orchestration.Encryption.EncryptionOptions"/>), and opens messages stored before the
    /// keyring existed.
    /// </summary>
    public string? EncryptionKey { get; set; }

    /// <summary>How many past messages are sent with each turn (the newest ones).</summary>
    public int MaxHistoryMessages { get; set; } = 100;
}
