using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace AspireLlm.Orchestration.Hashing;

/// <summary>
/// SHA-256 of a text's UTF-8, taken in pieces: a huge text is never copied whole. Written into a
/// cache key's JSON instead, a 1 MiB prompt went through a buffer grown by doubling to 2 MiB and
/// more; keyed this way, the whole key of such a prompt allocates about 0.1 MB.
/// </summary>
public static class TextHash
{
    private const int PieceCharacters = 16 * 1024;

    public static string Sha256Hex(string text)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var encoder = Encoding.UTF8.GetEncoder();
        var bytes = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(PieceCharacters));
        try
        {
            var rest = text.AsSpan();
            do
            {
                var piece = rest[..Math.Min(PieceCharacters, rest.Length)];
                // A surrogate pair cut in two is held by the encoder until its other half comes.
                encoder.Convert(piece, bytes, flush: piece.Length == rest.Length, out var used, out var written, out _);
                hash.AppendData(bytes, 0, written);
                rest = rest[used..];
                Tokens.BackgroundCpuWork.YieldNow();
            }
            while (!rest.IsEmpty);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }

        Span<byte> digest = stackalloc byte[32];
        hash.GetHashAndReset(digest);
        return Convert.ToHexStringLower(digest);
    }
}
