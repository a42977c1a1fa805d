using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

namespace AspireLlm.Orchestration.Hashing;

/// <summary>
/// A canonical form of a JSON document: object properties sorted by ordinal name, no whitespace,
/// numbers and strings as the writer normalises them. Two requests that differ only in property
/// order or spacing hash the same; any other difference changes the hash. Used for idempotency
/// request hashes and cache keys.
/// </summary>
public static class CanonicalJson
{
    /// <summary>Bumped whenever the canonical form changes, so old hashes never match new ones.</summary>
    public const byte Version = 1;

    public static byte[] Hash(JsonElement element)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        buffer.Write([Version]);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(writer, element);
        }

        return SHA256.HashData(buffer.WrittenSpan);
    }

    internal static void Write(Utf8JsonWriter writer, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in element.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(property.Name);
                    Write(writer, property.Value);
                }

                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    Write(writer, item);
                }

                writer.WriteEndArray();
                break;
            case JsonValueKind.Number:
                // 1, 1.0 and 1e0 are the same number to every JSON consumer we serve.
                if (element.TryGetDecimal(out var number))
                {
                    writer.WriteRawValue(number.ToString("G29", CultureInfo.InvariantCulture));
                }
                else
                {
                    writer.WriteRawValue(element.GetRawText());
                }

                break;
            default:
                element.WriteTo(writer);
                break;
        }
    }
}
