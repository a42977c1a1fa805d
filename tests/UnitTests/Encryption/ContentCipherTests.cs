using System.Security.Cryptography;
using System.Text;
using AspireLlm.Orchestration.Encryption;
using AspireLlm.Tests.Shared;

namespace AspireLlm.UnitTests.Encryption;

public sealed class ContentCipherTests
{
    private const string SecretA = "first-secret-of-at-least-32-characters-long";
    private const string SecretB = "second-secret-of-at-least-32-characters-long";
    private static readonly byte[] Here = SealContext.For(SealContext.JobResult, Guid.Parse("0195e5a0-0000-7000-8000-000000000001"));

    [Fact]
    public void Sealed_values_carry_their_key_id_and_hide_the_plaintext()
    {
        var cipher = TestEncryption.With(("k1", SecretA));

        var sealedValue = cipher.Seal("my card is 4111 1111 1111 1111", Here);

        Assert.Equal(ContentCipher.Version, sealedValue[0]);
        Assert.Equal("k1", ContentCipher.KeyIdOf(sealedValue));
        Assert.DoesNotContain("4111", Encoding.UTF8.GetString(sealedValue), StringComparison.Ordinal);
        Assert.Equal("my card is 4111 1111 1111 1111", cipher.OpenString(sealedValue, Here));
    }

    [Fact]
    public void After_a_rotation_old_values_open_and_new_ones_use_the_new_key()
    {
        var before = TestEncryption.With(("k1", SecretA));
        var old = before.Seal("sealed before", Here);

        var after = TestEncryption.With(("k1", SecretA), ("k2", SecretB));
        var fresh = after.Seal("sealed after", Here);

        Assert.Equal("sealed before", after.OpenString(old, Here));
        Assert.Equal("k2", ContentCipher.KeyIdOf(fresh));
        Assert.Equal("sealed after", after.OpenString(fresh, Here));
        // A replica still on the old ring cannot open it, and says which key is missing.
        var missing = Assert.ThrowsAny<CryptographicException>(() => before.Open(fresh, Here));
        Assert.Contains("'k2'", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_value_moved_elsewhere_altered_or_relabelled_does_not_open()
    {
        var cipher = TestEncryption.With(("k1", SecretA), ("k2", SecretB));
        var sealedValue = cipher.Seal("content", Here);
        var tampered = (byte[])sealedValue.Clone();
        tampered[^1] ^= 1;
        var relabelled = (byte[])sealedValue.Clone();
        relabelled[3] = (byte)'1'; // "k2" → "k1": the other key

        Assert.ThrowsAny<CryptographicException>(() => cipher.Open(sealedValue, SealContext.For(SealContext.JobInput, Guid.Parse("0195e5a0-0000-7000-8000-000000000001"))));
        Assert.ThrowsAny<CryptographicException>(() => cipher.Open(sealedValue, SealContext.For(SealContext.JobResult, Guid.NewGuid())));
        Assert.ThrowsAny<CryptographicException>(() => cipher.Open(tampered, Here));
        Assert.ThrowsAny<CryptographicException>(() => cipher.Open(relabelled, Here));
        Assert.ThrowsAny<CryptographicException>(() => cipher.Open("{\"plain\":true}"u8, Here));
    }

    [Fact]
    public void Parts_of_a_row_are_bound_in()
    {
        var id = Guid.NewGuid();

        Assert.NotEqual(SealContext.For(SealContext.JobItemResult, id, 1, 2), SealContext.For(SealContext.JobItemResult, id, 2, 1));
        Assert.NotEqual(SealContext.For(SealContext.JobItemResult, id, 1), SealContext.For(SealContext.JobItemResult, id, 1, 0));
    }
}
