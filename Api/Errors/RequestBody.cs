using System.Buffers;
using System.Text.Json;
using AspireLlm.Orchestration.ChatRequests;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace AspireLlm.Api.Errors;

/// <summary>Why a body could not be read: 413 (too large) or 400 (not UTF-8, not acceptable JSON).</summary>
public sealed record BodyError(int Status, string Message);

/// <summary>
/// Reads a JSON body within the configured size limit, strictly (<see cref="StrictJson"/>). The limit
/// is checked here as well as by Kestrel because a chunked body has no Content-Length to reject up front.
/// </summary>
public static class RequestBody
{
    private const int ChunkSize = 16 * 1024;

    /// <summary>The body as JSON, or a ProblemDetails error (413 too large, 400 not JSON).</summary>
    public static async Task<(JsonDocument? Document, ProblemHttpResult? Error)> ReadJsonAsync(
        HttpContext context, CancellationToken cancellationToken)
    {
        var (document, error) = await ReadAsync(context, cancellationToken);
        return error is null ? (document, null)
            : error.Status == StatusCodes.Status413PayloadTooLarge ? (null, Problems.TooLarge(error.Message))
            : (null, Problems.Validation(new() { ["$"] = [error.Message] }));
    }

    /// <summary>The body as JSON, or why not, for endpoints with their own error shape.</summary>
    public static async Task<(JsonDocument? Document, BodyError? Error)> ReadAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var limit = context.RequestServices.GetRequiredService<IOptions<ApiOptions>>().Value.MaxRequestBodyBytes;
        if (context.Request.ContentLength is { } declared && declared > limit)
        {
            return (null, await RefuseDeclaredAsync(context, declared, limit, cancellationToken));
        }

        var (body, tooLarge) = context.Request.ContentLength is { } length
            ? (await ReadDeclaredAsync(context.Request.Body, (int)length, cancellationToken), false)
            : await ReadChunkedAsync(context.Request.Body, limit, cancellationToken);
        if (tooLarge)
        {
            return (null, TooLarge(context, limit));
        }

        // Checking and parsing a body near the limit holds a core for milliseconds: large ones take turns
        // off the thread pool, as counting a huge prompt does.
        return await Orchestration.Tokens.LargePromptGate.RunAsync(body.Length, () => Parse(body), cancellationToken);
    }

    /// <summary>
    /// A body with a Content-Length (within the limit, checked above) is read straight into one array
    /// of its size: the parsed document keeps it, so it cannot come from a pool, and a chunk buffer per
    /// request was a fifth of the gateway's allocations (bench/run-gateway-bench.sh). Kestrel ends the
    /// body at the declared length; a body that ends early is what it is, and fails to parse.
    /// </summary>
    private static async Task<ReadOnlyMemory<byte>> ReadDeclaredAsync(Stream body, int length, CancellationToken cancellationToken)
    {
        var buffer = new byte[length];
        var read = await body.ReadAtLeastAsync(buffer, length, throwOnEndOfStream: false, cancellationToken);
        return buffer.AsMemory(0, read);
    }

    /// <summary>A chunked body has no length to trust: read in pooled chunks, stopping at the limit.</summary>
    private static async Task<(ReadOnlyMemory<byte> Body, bool TooLarge)> ReadChunkedAsync(Stream body, long limit, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream(ChunkSize);
        var chunk = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            int read;
            while ((read = await body.ReadAsync(chunk.AsMemory(0, ChunkSize), cancellationToken)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    return (default, true);
                }

                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return (buffer.GetBuffer().AsMemory(0, (int)buffer.Length), false);
    }

    private static (JsonDocument? Document, BodyError? Error) Parse(ReadOnlyMemory<byte> body)
    {
        if (!System.Text.Unicode.Utf8.IsValid(body.Span))
        {
            // Checked up front: the JSON reader only notices bad bytes inside a string when it is read.
            return (null, new BodyError(StatusCodes.Status400BadRequest, "The body is not valid UTF-8."));
        }

        try
        {
            return (StrictJson.Parse(body), null);
        }
        catch (JsonException exception)
        {
            var where = exception.LineNumber is { } line ? $" (line {line + 1}, byte {exception.BytePositionInLine + 1})" : "";
            var reason = exception.Message.StartsWith("A string holds", StringComparison.Ordinal) ? exception.Message
                : exception.Message.Contains("duplicate", StringComparison.OrdinalIgnoreCase) ? "The body names a property twice" + where + "."
                : "The body is not valid JSON" + where + ".";
            return (null, new BodyError(StatusCodes.Status400BadRequest, reason));
        }
    }

    /// <summary>
    /// A body declared too large is read to its end and dropped when it is within a few times the
    /// limit, so the client, still sending, can read the 413 and keep its connection. Answered at once,
    /// the rest would arrive at a closed socket: the client sees a reset instead of the 413, and a
    /// keep-alive client (Node's agent, the OpenAI SDKs) retries it as a network error. Bigger bodies
    /// are not worth reading: the 413 goes out at once, marked so that nobody reuses the connection.
    /// </summary>
    private static async Task<BodyError> RefuseDeclaredAsync(HttpContext context, long declared, long limit, CancellationToken cancellationToken)
    {
        var size = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>();
        if (declared <= limit * DrainFactor && size is { IsReadOnly: false })
        {
            size.MaxRequestBodySize = declared;
            var discard = new byte[ChunkSize];
            while (await context.Request.Body.ReadAsync(discard, cancellationToken) > 0)
            {
            }

            return new BodyError(StatusCodes.Status413PayloadTooLarge, $"The body exceeds the limit of {limit} bytes.");
        }

        return TooLarge(context, limit);
    }

    private const int DrainFactor = 4;

    /// <summary>The rest of the body is not read, so the connection cannot carry another request: say so.</summary>
    private static BodyError TooLarge(HttpContext context, long limit)
    {
        context.Response.Headers.Connection = "close";
        return new BodyError(StatusCodes.Status413PayloadTooLarge, $"The body exceeds the limit of {limit} bytes.");
    }
}
