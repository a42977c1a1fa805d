using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using AspireLlm.Orchestration.Encryption;
using Microsoft.Extensions.Options;

namespace AspireLlm.Api.Conversations;

/// <summary>
/// Message contents at rest, sealed with the shared <see cref="ContentCipher"/> (so they follow key
/// rotation like all content). The conversation id and the message's position are bound in, so a
/// ciphertext copied to another row or conversation fails to decrypt instead of being shown.
/// Messages written before the shared cipher (format version 1: a version byte, nonce, tag,
/// ciphertext, under a key derived from <c>Conversations:EncryptionKey</c>) still open.
/// </summary>
public sealed class ConversationCipher(ContentCipher cipher, IOptions<ConversationOptions> options)
{
    private const byte LegacyVersion = 1;
    private const int NonceSize = 12;
    private const int TagSize = 16;

    private readonly byte[]? _legacyKey = options.Value.EncryptionKey is { Length: >= 32 } secret
        ? HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret), 32, info: "aspirellm conversations v1"u8.ToArray())
        : null;

    public byte[] Encrypt(string plaintext, Guid conversationId, int seq) =>
        cipher.Seal(plaintext, SealContext.For(SealContext.ConversationMessage, conversationId, seq));

    public string Decrypt(byte[] sealedValue, Guid conversationId, int seq) => sealedValue is [LegacyVersion, ..]
        ? DecryptLegacy(sealedValue, conversationId, seq)
        : cipher.OpenString(sealedValue, SealContext.For(SealContext.ConversationMessage, conversationId, seq));

    private string DecryptLegacy(byte[] sealedValue, Guid conversationId, int seq)
    {
        if (_legacyKey is null || sealedValue.Length < 1 + NonceSize + TagSize)
        {
            throw new CryptographicException($"A version-1 conversation message needs {EncryptionOptions.DefaultKeySetting} to open.");
        }

        var associatedData = new byte[20];
        conversationId.TryWriteBytes(associatedData);
        BinaryPrimitives.WriteInt32BigEndian(associatedData.AsSpan(16), seq);
        var plain = new byte[sealedValue.Length - 1 - NonceSize - TagSize];
        using var aes = new AesGcm(_legacyKey, TagSize);
        aes.Decrypt(sealedValue.AsSpan(1, NonceSize), sealedValue.AsSpan(1 + NonceSize + TagSize), sealedValue.AsSpan(1 + NonceSize, TagSize), plain,
            associatedData);
        return Encoding.UTF8.GetString(plain);
    }
}
