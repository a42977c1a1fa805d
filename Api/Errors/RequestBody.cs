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
    public static async Task<(JsonDocument? Document, ProblemHttpResult? Error)> ReadJsonAsync(
        HttpContext context, CancellationToken cancellationToken)
    {
        var limit = context.RequestServices.GetRequiredService<IOptions<ApiOptions>>().Value.MaxRequestBodyBytes;
        if (context.Request.ContentLength > limit)
        {
            return (null, Problems.TooLarge(limit));
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                return (null, Problems.TooLarge(limit));
            }

            buffer.Write(chunk, 0, read);
        }

        try
        {
            return (JsonDocument.Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length)), null);
        }
        catch (JsonException exception)
        {
            var where = exception.LineNumber is { } line ? $" (line {line + 1}, byte {exception.BytePositionInLine + 1})" : "";
            return (null, Problems.Validation(new() { ["$"] = ["The body is not valid JSON" + where + "."] }));
        }
    }
}
