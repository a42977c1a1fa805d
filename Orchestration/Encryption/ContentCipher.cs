using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace AspireLlm.Orchestration.Encryption;

/// <summary>
/// Seals customer content (prompts, answers, webhook bodies, their Redis copies) with AES-256-GCM
/// from System.Security.Cryptography; nothing is hand rolled but the layout. A sealed value is a
/// version byte (2), the key id's length and ASCII bytes, a 12-byte random nonce, the 16-byte tag,
/// then the ciphertext. The key id travels with the value, so values sealed before a rotation still
/// open with their own key. The caller's associated data (where the value lives: table, field, row;
/// or the Redis key) is authenticated too, so a value copied anywhere else fails to open instead of
/// being served as that place's content. The key id and version need no separate binding: changing
/// either selects another key or no key, and the tag fails.
/// </summary>
/// <remarks>Thread-safe: keys are derived once; <see cref="AesGcm"/> (which is not thread-safe) is made per call.</remarks>
public sealed class ContentCipher
{
    public const byte Version = 2;
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private static readonly byte[] DerivationInfo = "aspirellm content v2"u8.ToArray();

    private readonly (byte[] Id, byte[] Key)[] _keys;
    private readonly byte[] _activeId;
    private readonly byte[] _activeKey;

    public ContentCipher(IOptions<EncryptionOptions> options)
        : this(options.Value)
    {
    }

    /// <summary>A cipher over an already validated keyring (see <see cref="EncryptionOptionsValidator"/>).</summary>
    public ContentCipher(EncryptionOptions options)
    {
        if (options.ActiveKeyId is not { } active || !options.Keys.ContainsKey(active))
        {
            throw new InvalidOperationException($"{EncryptionOptions.SectionName}:ActiveKeyId must name one of {EncryptionOptions.SectionName}:Keys.");
        }

        _keys = [.. options.Keys.Select(pair => (Encoding.ASCII.GetBytes(pair.Key), DeriveKey(pair.Value)))];
        ActiveKeyId = active;
        (_activeId, _activeKey) = _keys.Single(key => key.Id.AsSpan().SequenceEqual(Encoding.ASCII.GetBytes(active)));
    }

    /// <summary>The id of the key new values are sealed with.</summary>
    public string ActiveKeyId { get; }

    public byte[] Seal(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        var header = 2 + _activeId.Length;
        var sealedValue = new byte[header + NonceSize + TagSize + plaintext.Length];
        sealedValue[0] = Version;
        sealedValue[1] = (byte)_activeId.Length;
        _activeId.CopyTo(sealedValue.AsSpan(2));
        var nonce = sealedValue.AsSpan(header, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_activeKey, TagSize);
        aes.Encrypt(nonce, plaintext, sealedValue.AsSpan(header + NonceSize + TagSize), sealedValue.AsSpan(header + NonceSize, TagSize), associatedData);
        return sealedValue;
    }

    public byte[] Seal(string plaintext, ReadOnlySpan<byte> associatedData) => Seal(Encoding.UTF8.GetBytes(plaintext), associatedData);

    /// <summary>The plaintext; <see cref="CryptographicException"/> when the value was tampered with, moved, or sealed with a key not in the ring.</summary>
    public byte[] Open(ReadOnlySpan<byte> sealedValue, ReadOnlySpan<byte> associatedData)
    {
        var (key, header) = KeyFor(sealedValue);
        var plaintext = new byte[sealedValue.Length - header - NonceSize - TagSize];
        using var aes = new AesGcm(key, TagSize);
        aes.Decrypt(sealedValue.Slice(header, NonceSize), sealedValue[(header + NonceSize + TagSize)..], sealedValue.Slice(header + NonceSize, TagSize),
            plaintext, associatedData);
        return plaintext;
    }

    public string OpenString(ReadOnlySpan<byte> sealedValue, ReadOnlySpan<byte> associatedData) =>
        Encoding.UTF8.GetString(Open(sealedValue, associatedData));

    /// <summary>
    /// A key for keyed hashes of content (searchable, not reversible: full-text lexemes, content hashes),
    /// derived from key <paramref name="keyId"/> (the active key by default) for <paramref name="purpose"/>.
    /// Returns the id too: hashes made with it are compared only with hashes made with the same key.
    /// </summary>
    public (string KeyId, byte[] Key) DeriveHashKey(string purpose, string? keyId = null)
    {
        var id = Encoding.ASCII.GetBytes(keyId ?? ActiveKeyId);
        foreach (var (candidate, key) in _keys)
        {
            if (candidate.AsSpan().SequenceEqual(id))
            {
                return (keyId ?? ActiveKeyId, HKDF.Expand(HashAlgorithmName.SHA256, key, 32, Encoding.UTF8.GetBytes("aspirellm hash v1 " + purpose)));
            }
        }

        throw new CryptographicException($"Key '{keyId}' is not in {EncryptionOptions.SectionName}:Keys.");
    }

    /// <summary>Whether the value has this format's header (it may still fail to open).</summary>
    public static bool IsSealed(ReadOnlySpan<byte> value) =>
        value.Length >= 3 + NonceSize + TagSize && value[0] == Version && value[1] is > 0 and <= 32 && value.Length >= 2 + value[1] + NonceSize + TagSize;

    /// <summary>The id of the key a value was sealed with, or null when it is not a sealed value.</summary>
    public static string? KeyIdOf(ReadOnlySpan<byte> value) => IsSealed(value) ? Encoding.ASCII.GetString(value.Slice(2, value[1])) : null;

    internal static bool IsValidKeyId(string id) =>
        id.Length is > 0 and <= 32 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    private (byte[] Key, int Header) KeyFor(ReadOnlySpan<byte> sealedValue)
    {
        if (!IsSealed(sealedValue))
        {
            throw new CryptographicException("The value is not sealed content of a known format.");
        }

        var id = sealedValue.Slice(2, sealedValue[1]);
        foreach (var (keyId, key) in _keys)
        {
            if (id.SequenceEqual(keyId))
            {
                return (key, 2 + keyId.Length);
            }
        }

        throw new CryptographicException($"The value was sealed with key '{Encoding.ASCII.GetString(id)}', which is not in {EncryptionOptions.SectionName}:Keys.");
    }

    private static byte[] DeriveKey(string secret) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret), 32, info: DerivationInfo);
}
