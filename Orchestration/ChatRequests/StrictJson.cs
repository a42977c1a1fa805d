using System.Text.Json;

namespace AspireLlm.Orchestration.ChatRequests;

/// <summary>
/// How every request body is read: a property named twice is an error (which of the two would win
/// is a guess a client should not have to make, and two readers may guess differently), and a string
/// that does not decode to valid Unicode (a lone UTF-16 surrogate escape such as <c>"\ud800"</c>) is
/// found before any reader trips over it deep inside a handler.
/// </summary>
public static class StrictJson
{
    public static readonly JsonDocumentOptions Options = new() { AllowDuplicateProperties = false, MaxDepth = 64 };

    /// <summary>Parses <paramref name="utf8"/> (already known to be valid UTF-8); throws <see cref="JsonException"/> when it is not acceptable JSON.</summary>
    public static JsonDocument Parse(ReadOnlyMemory<byte> utf8)
    {
        if (FindInvalidEscape(utf8.Span) is { } position)
        {
            throw new JsonException($"A string holds an escape that is not valid Unicode (a lone surrogate) at byte {position + 1}.");
        }

        return JsonDocument.Parse(utf8, Options);
    }

    public static JsonDocument Parse(string json) => Parse(System.Text.Encoding.UTF8.GetBytes(json));

    /// <summary>The byte offset of the first string whose escapes do not decode, or null. Only escaped strings cost anything.</summary>
    private static long? FindInvalidEscape(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IndexOf("\\u"u8) < 0)
        {
            return null;
        }

        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = Options.MaxDepth });
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && reader.ValueIsEscaped)
                {
                    try
                    {
                        _ = reader.GetString();
                    }
                    catch (InvalidOperationException)
                    {
                        return reader.TokenStartIndex;
                    }
                }
            }
        }
        catch (JsonException)
        {
            // Malformed JSON: JsonDocument.Parse reports it with its position.
        }

        return null;
    }
}
