using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace AspireLlm.Api.Errors;

/// <summary>
/// Reads a JSON body within the configured size limit. The limit is checked here as well as by
/// Kestrel because a chunked body has no Content-Length to reject up front.
/// </summary>
public static class RequestBody
{
    /// <summary>The body as JSON, or a ProblemDetails error (413 too large, 400 not JSON).</summary>
    public static async Task<(JsonDocument? Document, ProblemHttpResult? Error)> ReadJsonAsync(
        HttpContext context, CancellationToken cancellationToken)
    {
        var (document, status, error) = await ReadAsync(context, cancellationToken);
        return document is not null ? (document, null)
            : status == StatusCodes.Status413PayloadTooLarge ? (null, Problems.TooLarge(Limit(context)))
            : (null, Problems.Validation(new() { ["$"] = [error!] }));
    }

    /// <summary>The body as JSON, or the status and message of why not, for endpoints with their own error shape.</summary>
    public static async Task<(JsonDocument? Document, int Status, string? Error)> ReadAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var limit = Limit(context);
        var tooLarge = (default(JsonDocument), StatusCodes.Status413PayloadTooLarge, $"The body exceeds the limit of {limit} bytes.");
        if (context.Request.ContentLength > limit)
        {
            return tooLarge;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                return tooLarge;
            }

            buffer.Write(chunk, 0, read);
        }

        if (!System.Text.Unicode.Utf8.IsValid(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)))
        {
            // Checked up front: the JSON reader only notices bad bytes inside a string when it is read.
            return (null, StatusCodes.Status400BadRequest, "The body is not valid UTF-8.");
        }

        try
        {
            return (JsonDocument.Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length)), StatusCodes.Status200OK, null);
        }
        catch (JsonException exception)
        {
            var where = exception.LineNumber is { } line ? $" (line {line + 1}, byte {exception.BytePositionInLine + 1})" : "";
            return (null, StatusCodes.Status400BadRequest, "The body is not valid JSON" + where + ".");
        }
    }

    private static long Limit(HttpContext context) =>
        context.RequestServices.GetRequiredService<IOptions<ApiOptions>>().Value.MaxRequestBodyBytes;
}
