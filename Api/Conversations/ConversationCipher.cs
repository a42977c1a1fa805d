using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace AspireLlm.Api.Conversations;

/// <summary>
/// Encrypts message contents at rest with AES-256-GCM (System.Security.Cryptography; nothing hand
/// rolled but the layout). Each value is: a version byte, a 12-byte random nonce, the 16-byte tag,
/// the ciphertext. The conversation id and the message's position are bound in as associated data,
/// so a ciphertext copied to another row or conversation fails to decrypt instead of being shown.
/// </summary>
public sealed class ConversationCipher(IOptions<ConversationOptions> options)
{
    private const byte Version = 1;
    private const int NonceSize = 12;
    private const int TagSize = 16;

    private readonly byte[]? _key = options.Value.EncryptionKey is { Length: >= 32 } secret
        ? HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret), 32, info: "aspirellm conversations v1"u8.ToArray())
        : null;

    public bool IsConfigured => _key is not null;

    public byte[] Encrypt(string plaintext, Guid conversationId, int seq)
    {
        var plain = Encoding.UTF8.GetBytes(plaintext);
        var sealedValue = new byte[1 + NonceSize + TagSize + plain.Length];
        sealedValue[0] = Version;
        var nonce = sealedValue.AsSpan(1, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(Key, TagSize);
        aes.Encrypt(nonce, plain, sealedValue.AsSpan(1 + NonceSize + TagSize), sealedValue.AsSpan(1 + NonceSize, TagSize), AssociatedData(conversationId, seq));
        return sealedValue;
    }

    public string Decrypt(byte[] sealedValue, Guid conversationId, int seq)
    {
        if (sealedValue.Length < 1 + NonceSize + TagSize || sealedValue[0] != Version)
        {
            throw new CryptographicException("Unknown conversation content format.");
        }

        var plain = new byte[sealedValue.Length - 1 - NonceSize - TagSize];
        using var aes = new AesGcm(Key, TagSize);
        aes.Decrypt(sealedValue.AsSpan(1, NonceSize), sealedValue.AsSpan(1 + NonceSize + TagSize), sealedValue.AsSpan(1 + NonceSize, TagSize), plain,
            AssociatedData(conversationId, seq));
        return Encoding.UTF8.GetString(plain);
    }

    private byte[] Key => IsConfigured ? _key! : throw new InvalidOperationException("Conversations:EncryptionKey is not configured.");

    private static byte[] AssociatedData(Guid conversationId, int seq)
    {
        var data = new byte[20];
        conversationId.TryWriteBytes(data);
        BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(16), seq);
        return data;
    }
}
