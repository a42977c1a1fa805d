using System.Buffers;
using System.Text.Json;

namespace AspireLlm.Orchestration.Redaction;

/// <summary><see cref="PiiRedactor"/> over the string values of a JSON document (names and numbers are kept).</summary>
internal static class PiiJson
{
    public static bool ContainsPii(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => PiiRedactor.ContainsPii(element.GetString()),
        JsonValueKind.Object => element.EnumerateObject().Any(property => ContainsPii(property.Value)),
        JsonValueKind.Array => element.EnumerateArray().Any(ContainsPii),
        _ => false,
    };

    /// <summary>The element with every string value redacted; the same element when there is nothing to redact.</summary>
    public static JsonElement Redact(JsonElement element)
    {
        if (!ContainsPii(element))
        {
            return element;
        }

        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(writer, element);
        }

        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }

    private static void Write(Utf8JsonWriter writer, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                writer.WriteStringValue(PiiRedactor.Redact(element.GetString()));
                break;
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in element.EnumerateObject())
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
            default:
                element.WriteTo(writer);
                break;
        }
    }
}
