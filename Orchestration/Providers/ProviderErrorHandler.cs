using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using AspireLlm.Orchestration.Redaction;

namespace AspireLlm.Orchestration.Providers;

/// <summary>
/// Turns a provider's error response into a <see cref="ProviderHttpException"/> before the SDK sees
/// it. The SDKs each wrap errors their own way (and not all of them expose Retry-After); one
/// handler under all of them gives one error shape. The body is read (at most a few KB) for the
/// provider's error code and message, and redacted, because providers echo prompt text in errors.
/// </summary>
internal sealed class ProviderErrorHandler(TimeProvider timeProvider) : DelegatingHandler
{
    private const int MaxErrorBodyChars = 4096;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            var body = await ReadBoundedAsync(response.Content, cancellationToken);
            var (code, message) = ParseError(body);
            var text = $"Provider answered {(int)response.StatusCode} {response.ReasonPhrase}"
                + (code is null ? "" : $" ({code})") + (message is null ? "." : $": {PiiRedactor.Redact(message)}");
            throw new ProviderHttpException(response.StatusCode, RetryAfterOf(response.Headers), code, text);
        }
    }

    private TimeSpan? RetryAfterOf(HttpResponseHeaders headers)
    {
        // OpenAI also sends retry-after-ms, which is more precise when present.
        if (headers.TryGetValues("retry-after-ms", out var milliseconds)
            && double.TryParse(milliseconds.FirstOrDefault(), System.Globalization.CultureInfo.InvariantCulture, out var ms))
        {
            return TimeSpan.FromMilliseconds(Math.Max(0, ms));
        }

        return headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date > timeProvider.GetUtcNow() ? date - timeProvider.GetUtcNow() : TimeSpan.Zero,
            _ => null,
        };
    }

    private static async Task<string> ReadBoundedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(await content.ReadAsStreamAsync(cancellationToken));
        var buffer = new char[MaxErrorBodyChars];
        var read = await reader.ReadBlockAsync(buffer, cancellationToken);
        return new string(buffer, 0, read);
    }

    /// <summary>OpenAI sends <c>{"error":{"code","type","message"}}</c>; Anthropic <c>{"type":"error","error":{"type","message"}}</c>.</summary>
    private static (string? Code, string? Message) ParseError(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            {
                var code = StringOf(error, "code") ?? StringOf(error, "type");
                return (code, StringOf(error, "message"));
            }
        }
        catch (JsonException)
        {
        }

        return (null, body.Length == 0 ? null : body);
    }

    private static string? StringOf(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
