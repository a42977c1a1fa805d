using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using AspireLlm.Orchestration.Encryption;

namespace AspireLlm.Orchestration.Retrieval;

/// <summary>
/// Full-text search without words at rest. Postgres still does the linguistics (<c>to_tsvector('english')</c>
/// stems and drops stop words), but what is stored in the <c>tsvector</c> is each lexeme's keyed hash
/// (HMAC-SHA256 with a key derived from the content keyring, 80 bits, hex) with its positions, and queries
/// are hashed the same way, so matching and ranking (<c>ts_rank_cd</c> reads positions and counts, never
/// the text) work unchanged. What a database reader still learns: how many distinct words a chunk has,
/// where they repeat, and which chunks share a word (equal hashes); not which word it is, unless they
/// hold the key. Content hashes (to reuse embeddings of unchanged text) are keyed the same way, per tenant.
/// </summary>
public sealed class LexicalHasher(ContentCipher cipher)
{
    private readonly ConcurrentDictionary<string, byte[]> _lexemeKeys = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte[]> _contentKeys = new(StringComparer.Ordinal);

    /// <summary>The key id new collections hash with.</summary>
    public string ActiveKeyId => cipher.ActiveKeyId;

    public string HashLexeme(string keyId, string lexeme)
    {
        var key = _lexemeKeys.GetOrAdd(keyId, id => cipher.DeriveHashKey("lexeme", id).Key);
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(lexeme), mac);
        return Convert.ToHexStringLower(mac[..10]);
    }

    /// <summary>A <c>tsvector</c> literal of the hashed lexemes with their positions.</summary>
    public string TsVector(string keyId, IEnumerable<(string Lexeme, short[] Positions)> lexemes)
    {
        var text = new StringBuilder();
        foreach (var (lexeme, positions) in lexemes)
        {
            text.Append(text.Length > 0 ? " " : "").Append(HashLexeme(keyId, lexeme));
            if (positions.Length > 0)
            {
                text.Append(':').AppendJoin(',', positions);
            }
        }

        return text.ToString();
    }

    /// <summary>The distinct keyed hashes of a query's lexemes (see <see cref="LexicalQuery"/> for how they are searched).</summary>
    public IReadOnlyList<string> HashLexemes(string keyId, IEnumerable<string> lexemes) =>
        [.. lexemes.Distinct(StringComparer.Ordinal).Select(lexeme => HashLexeme(keyId, lexeme))];

    /// <summary>A keyed hash of a text as embedded by <paramref name="model"/> for <paramref name="tenant"/>.</summary>
    public byte[] ContentHash(string keyId, string tenant, string model, string text)
    {
        var key = _contentKeys.GetOrAdd(keyId, id => cipher.DeriveHashKey("content", id).Key);
        return HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{tenant}\u0000{model}\u0000{text}"));
    }
}
