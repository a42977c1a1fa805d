using System.Security.Cryptography;
using AspireLlm.Api.Conversations;
using Microsoft.Extensions.Options;

namespace AspireLlm.UnitTests.Conversations;

public sealed class ConversationCipherTests
{
    private static ConversationCipher Cipher(string secret = "a-shared-secret-of-at-least-32-characters!") =>
        new(Options.Create(new ConversationOptions { EncryptionKey = secret }));

    [Fact]
    public void Round_trips_and_never_repeats_a_ciphertext()
    {
        var id = Guid.NewGuid();

        var first = Cipher().Encrypt("hello", id, 3);
        var second = Cipher().Encrypt("hello", id, 3);

        Assert.Equal("hello", Cipher().Decrypt(first, id, 3));
        Assert.NotEqual(first, second);
    }

    [Fact]
    public void A_ciphertext_moved_to_another_row_or_tampered_with_does_not_decrypt()
    {
        var id = Guid.NewGuid();
        var sealedValue = Cipher().Encrypt("hello", id, 3);
        var tampered = (byte[])sealedValue.Clone();
        tampered[^1] ^= 1;

        Assert.ThrowsAny<CryptographicException>(() => Cipher().Decrypt(sealedValue, id, 4));
        Assert.ThrowsAny<CryptographicException>(() => Cipher().Decrypt(sealedValue, Guid.NewGuid(), 3));
        Assert.ThrowsAny<CryptographicException>(() => Cipher().Decrypt(tampered, id, 3));
        Assert.ThrowsAny<CryptographicException>(() => Cipher("another-secret-of-at-least-32-characters!!").Decrypt(sealedValue, id, 3));
    }

    [Fact]
    public void Without_a_key_conversations_are_off_rather_than_stored_in_the_clear()
    {
        var cipher = new ConversationCipher(Options.Create(new ConversationOptions()));

        Assert.False(cipher.IsConfigured);
        Assert.Throws<InvalidOperationException>(() => cipher.Encrypt("x", Guid.NewGuid(), 0));
    }
}
