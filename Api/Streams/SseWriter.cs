using System.Text;
using System.Text.Json;

namespace AspireLlm.Api.Streams;

/// <summary>
/// The one writer of server-sent events in the Api: chat completion chunks and job events alike.
/// Events are written into the response's buffer and leave on <see cref="FlushAsync"/>, so events made
/// together (a stream's opening role chunk and its first content, or its closing chunks and
/// <c>[DONE]</c>) go out in one network write rather than one each; a client then wakes once for them.
/// JSON is serialised straight into that buffer, with no string in between.
/// </summary>
internal sealed class SseWriter
{
    private readonly HttpResponse _response;
    private readonly Utf8JsonWriter _json;
    private readonly JsonSerializerOptions _options;

    private SseWriter(HttpResponse response, JsonSerializerOptions options)
    {
        _response = response;
        _options = options;
        // Serialize(Utf8JsonWriter, ...) writes with the writer's options, not the serializer's: same escaping.
        _json = new Utf8JsonWriter(response.BodyWriter, new JsonWriterOptions { Encoder = options.Encoder, Indented = false });
    }

    /// <summary>Sets the stream's headers (sent with the first flush) and returns its writer.</summary>
    public static SseWriter Start(HttpResponse response, JsonSerializerOptions options)
    {
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        // Tells nginx-style proxies not to buffer the stream.
        response.Headers["X-Accel-Buffering"] = "no";
        return new SseWriter(response, options);
    }

    /// <summary>An event whose data is <paramref name="payload"/> as JSON, held until the next flush.</summary>
    public void Data(object payload)
    {
        Text("data: ");
        _json.Reset();
        JsonSerializer.Serialize(_json, payload, payload.GetType(), _options);
        _json.Flush();
        Text("\n\n");
    }

    /// <summary>An event with an id and a type, its data already JSON, held until the next flush.</summary>
    public void Event(long id, string type, string json) => Text($"id: {id}\nevent: {type}\ndata: {json}\n\n");

    /// <summary>An event with a type and no id (it must not move a reconnecting client's Last-Event-ID).</summary>
    public void Event(string type, object payload)
    {
        Text($"event: {type}\n");
        Data(payload);
    }

    /// <summary>OpenAI's end of a completed stream; a stream cut short by an error has none.</summary>
    public void Done() => Text("data: [DONE]\n\n");

    /// <summary>A comment line (<c>: text</c>), which clients ignore: a heartbeat that keeps proxies from closing an idle stream.</summary>
    public void Comment(string text) => Text($": {text}\n\n");

    /// <summary>How long a client should wait before reconnecting, with a comment saying why.</summary>
    public void Retry(TimeSpan after, string why) => Text($"retry: {(long)after.TotalMilliseconds}\n: {why}\n\n");

    /// <summary>Sends everything written since the last flush (the headers too, the first time).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken) => await _response.BodyWriter.FlushAsync(cancellationToken);

    private void Text(string text) => Encoding.UTF8.GetBytes(text.AsSpan(), _response.BodyWriter);
}
