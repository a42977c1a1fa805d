using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace AspireLlm.Tests.Shared.FakeProviders;

/// <summary>Writes JSON and Server-Sent Events onto a response the way both providers do.</summary>
internal static class WireResponse
{
    public static async Task WriteJsonAsync(HttpResponse response, int status, JsonNode body, CancellationToken cancellationToken)
    {
        response.StatusCode = status;
        response.ContentType = "application/json";
        await response.WriteAsync(body.ToJsonString(), cancellationToken);
    }

    /// <summary>Sends the status line and headers now, so the client sees the stream open before the first event.</summary>
    public static async Task StartEventStreamAsync(HttpResponse response, CancellationToken cancellationToken)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        await response.StartAsync(cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    /// <summary>One event, flushed at once: the tests depend on chunks arriving separately, not batched by buffering.</summary>
    public static async Task WriteEventAsync(HttpResponse response, string? eventName, string data, CancellationToken cancellationToken)
    {
        var text = eventName is null ? $"data: {data}\n\n" : $"event: {eventName}\ndata: {data}\n\n";
        await response.WriteAsync(text, cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    /// <summary>Fresh ids in each provider's style (chatcmpl-…, msg_…, call_…, toolu_…).</summary>
    public static string NewId(string prefix) => prefix + Guid.NewGuid().ToString("N")[..24];
}
