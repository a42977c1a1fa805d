using AspireLlm.Orchestration.Encryption;

namespace AspireLlm.Tests.Shared;

/// <summary>
/// The content key every test process shares (the services under test get it as
/// <c>Conversations:EncryptionKey</c>, the default key "k1"), so values one of them seals the others open.
/// </summary>
public static class TestEncryption
{
    public const string Secret = "test-conversation-key-0123456789abcdef0123456789";

    public static ContentCipher Cipher { get; } = With((EncryptionOptions.DefaultKeyId, Secret));

    /// <summary>A cipher over the given keys; the last one is active.</summary>
    public static ContentCipher With(params (string Id, string Secret)[] keys)
    {
        var options = new EncryptionOptions { ActiveKeyId = keys[^1].Id };
        foreach (var (id, secret) in keys)
        {
            options.Keys[id] = secret;
        }

        return new ContentCipher(options);
    }
}
