using System.Text.Json;

namespace AspireLlm.Orchestration.ChatRequests;

/// <summary>Typed reads of single values, each refusing a wrong type or range with the parameter named.</summary>
public static partial class ChatCompletionParser
{
    /// <param name="Prefix">Where the request sits in the body that holds it (<c>input</c>, <c>input.requests[3]</c>), or null.</param>
    private sealed record Reader(string? Prefix)
    {
        public RequestException Bad(string message, string? param, string? code = null) =>
            new(new ChatRequestError(message, Qualify(param), code));

        public string RequiredString(JsonElement element, string name, string? path = null, int maxLength = int.MaxValue) =>
            element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
                && value.GetString() is { Length: > 0 } text
                ? text.Length <= maxLength ? text : throw Bad($"'{path ?? name}' may be at most {maxLength} characters.", path ?? name, "string_above_max_length")
                : throw Bad($"'{path ?? name}' is required and must be a non-empty string.", path ?? name);

        public string? OptionalString(JsonElement element, string name, string? path = null, int maxLength = int.MaxValue) =>
            !element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? null
            : value.ValueKind != JsonValueKind.String ? throw Bad($"'{path ?? name}' must be a string.", path ?? name)
            : value.GetString() is { } text && text.Length <= maxLength ? text
            : throw Bad($"'{path ?? name}' may be at most {maxLength} characters.", path ?? name, "string_above_max_length");

        public float? Number(JsonElement element, string name, double min, double max)
        {
            if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            // TryGetDouble refuses what overflows a double (1e400), so no infinity gets through.
            return value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number) && number >= min && number <= max
                ? (float)number
                : throw Bad($"'{name}' must be a number from {min} to {max}.", name, "invalid_value");
        }

        public long? Integer(JsonElement element, string name, long min, long max)
        {
            if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            return value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) && number >= min && number <= max
                ? number
                : throw Bad($"'{name}' must be an integer from {min} to {max}.", name, "invalid_value");
        }

        public bool? Boolean(JsonElement element, string name, string? path = null) =>
            !element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? null
            : value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean()
            : throw Bad($"'{path ?? name}' must be a boolean.", path ?? name);

        private string? Qualify(string? param) =>
            Prefix is null ? param : param is null ? Prefix : $"{Prefix}.{param}";
    }

    private sealed class RequestException(ChatRequestError error) : Exception(error.Message)
    {
        public ChatRequestError Error { get; } = error;
    }
}
