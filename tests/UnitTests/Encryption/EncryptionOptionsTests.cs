using AspireLlm.Orchestration.Encryption;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace AspireLlm.UnitTests.Encryption;

public sealed class EncryptionOptionsTests
{
    private const string Secret = "a-secret-that-is-at-least-32-characters";
    private const string Other = "another-secret-at-least-32-characters!!";

    private static ContentCipher Create(params (string Key, string? Value)[] settings) =>
        EncryptionExtensions.CreateContentCipher(new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Where(setting => setting.Value is not null).Select(setting => new KeyValuePair<string, string?>(setting.Key, setting.Value)))
            .Build());

    [Fact]
    public void The_conversation_secret_alone_is_the_active_key_k1()
    {
        var cipher = Create(("Conversations:EncryptionKey", Secret));

        Assert.Equal("k1", cipher.ActiveKeyId);
    }

    [Fact]
    public void A_new_key_beside_the_conversation_secret_rotates_and_the_old_one_still_opens()
    {
        var before = Create(("Conversations:EncryptionKey", Secret));
        var context = SealContext.ForRedisKey("x");
        var old = before.Seal("old", context);

        var after = Create(("Conversations:EncryptionKey", Secret), ("Encryption:Keys:k2", Other), ("Encryption:ActiveKeyId", "k2"));

        Assert.Equal("k2", after.ActiveKeyId);
        Assert.Equal("old", after.OpenString(old, context));
    }

    [Theory]
    [InlineData(null, null, null, "Encryption:Keys:{id} (or Conversations:EncryptionKey) must be set")]
    [InlineData("too-short", null, null, "Conversations:EncryptionKey must be at least 32 characters")]
    [InlineData(Secret, "short", "k2", "Encryption:Keys:k2 must be at least 32 characters")]
    [InlineData(Secret, Other, null, "Encryption:ActiveKeyId must name the key")]
    [InlineData(Secret, Other, "k9", "Encryption:ActiveKeyId 'k9' is not one of Encryption:Keys")]
    public void An_unusable_keyring_stops_the_process_naming_the_setting(string? conversationKey, string? k2, string? active, string expected)
    {
        var failure = Assert.Throws<OptionsValidationException>(() => Create(
            ("Conversations:EncryptionKey", conversationKey), ("Encryption:Keys:k2", k2), ("Encryption:ActiveKeyId", active)));

        Assert.Contains(expected, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Redefining_k1_away_from_the_conversation_secret_is_refused()
    {
        var failure = Assert.Throws<OptionsValidationException>(() => Create(("Conversations:EncryptionKey", Secret), ("Encryption:Keys:k1", Other)));

        Assert.Contains("Encryption:Keys:k1 differs from Conversations:EncryptionKey", failure.Message, StringComparison.Ordinal);
    }
}
