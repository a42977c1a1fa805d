using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using AspireLlm.Api.Conversations;
using AspireLlm.Orchestration.Encryption;
using AspireLlm.Tests.Shared;
using Microsoft.Extensions.Options;

namespace AspireLlm.UnitTests.Conversations;

public sealed class ConversationCipherTests
{
    private const string Secret = "a-shared-secret-of-at-least-32-characters!";

    private static ConversationCipher Cipher(string secret = Secret) =>
        new(TestEncryption.With((EncryptionOptions.DefaultKeyId, secret)), Options.Create(new ConversationOptions { EncryptionKey = secret }));

    [Fact]
    public void Round_trips_and_never_repeats_a_ciphertext()
    {
        var id = Guid.NewGuid();

        var first = Cipher().Encrypt("hello", id, 3);
        var second = Cipher().Encrypt("hello", id, 3);

        Assert.Equal("hello", Cipher().Decrypt(first, id, 3));
        Assert.NotEqual(first, second);
        Assert.Equal(EncryptionOptions.DefaultKeyId, ContentCipher.KeyIdOf(first));
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
    public void Messages_stored_before_the_shared_cipher_still_open()
    {
        var id = Guid.NewGuid();
        var legacy = SealAsVersionOne("stored last year", Secret, id, 2);

        Assert.Equal("stored last year", Cipher().Decrypt(legacy, id, 2));
        Assert.ThrowsAny<CryptographicException>(() => Cipher().Decrypt(legacy, id, 3));
    }

    /// <summary>The version-1 layout exactly as the conversation cipher wrote it before the shared one.</summary>
    private static byte[] SealAsVersionOne(string plaintext, string secret, Guid conversationId, int seq)
    {
        var key = HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret), 32, info: "aspirellm conversations v1"u8.ToArray());
        var plain = Encoding.UTF8.GetBytes(plaintext);
        var sealedValue = new byte[1 + 12 + 16 + plain.Length];
        sealedValue[0] = 1;
        RandomNumberGenerator.Fill(sealedValue.AsSpan(1, 12));
        var associatedData = new byte[20];
        conversationId.TryWriteBytes(associatedData);
        BinaryPrimitives.WriteInt32BigEndian(associatedData.AsSpan(16), seq);
        using var aes = new AesGcm(key, 16);
        aes.Encrypt(sealedValue.AsSpan(1, 12), plain, sealedValue.AsSpan(29), sealedValue.AsSpan(13, 16), associatedData);
        return sealedValue;
    }
}
