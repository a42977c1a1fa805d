using System.Text;
using System.Text.Json;
using AspireLlm.Api.Streams;
using Microsoft.AspNetCore.Http;

namespace AspireLlm.ServiceTests.Api;

/// <summary>
/// The Api's one server-sent-events writer: events are held until a flush and then leave together,
/// in the wire format clients parse (OpenAI's <c>data:</c> chunks, and job events with ids and types).
/// </summary>
public sealed class SseWriterTests
{
    private static (SseWriter Writer, MemoryStream Wire, HttpResponse Response) Stream()
    {
        var context = new DefaultHttpContext();
        var wire = new MemoryStream();
        context.Response.Body = wire;
        return (SseWriter.Start(context.Response, JsonSerializerOptions.Web), wire, context.Response);
    }

    private static string Sent(MemoryStream wire) => Encoding.UTF8.GetString(wire.ToArray());

    [Fact]
    public async Task Events_are_held_until_the_flush_then_leave_together_in_one_write()
    {
        var (sse, wire, response) = Stream();

        sse.Data(new { role = "assistant", content = "" });
        sse.Data(new { content = "Hello" });
        var beforeFlush = wire.Length;
        await sse.FlushAsync(CancellationToken.None);

        Assert.Equal(0, beforeFlush);
        Assert.Equal("data: {\"role\":\"assistant\",\"content\":\"\"}\n\ndata: {\"content\":\"Hello\"}\n\n", Sent(wire));
        Assert.Equal("text/event-stream", response.ContentType);
        Assert.Equal("no-cache", response.Headers.CacheControl.ToString());
        Assert.Equal("no", response.Headers["X-Accel-Buffering"].ToString());
    }

    [Fact]
    public async Task Json_is_escaped_as_the_serializer_options_escape_it()
    {
        var (sse, wire, _) = Stream();

        sse.Data(new { content = "café <b>" });
        sse.Done();
        await sse.FlushAsync(CancellationToken.None);

        Assert.Equal(
            $"data: {JsonSerializer.Serialize(new { content = "café <b>" }, JsonSerializerOptions.Web)}\n\ndata: [DONE]\n\n",
            Sent(wire));
    }

    [Fact]
    public async Task Job_events_carry_their_id_and_type_and_the_stream_can_ask_for_a_reconnect()
    {
        var (sse, wire, _) = Stream();

        sse.Event(42, "progress", """{"type":"progress","done":1}""");
        sse.Comment("ping");
        sse.Event("error", new { type = "error", code = "key_revoked" });
        sse.Retry(TimeSpan.FromSeconds(2), "server shutting down");
        await sse.FlushAsync(CancellationToken.None);

        Assert.Equal(
            "id: 42\nevent: progress\ndata: {\"type\":\"progress\",\"done\":1}\n\n"
            + ": ping\n\n"
            + "event: error\ndata: {\"type\":\"error\",\"code\":\"key_revoked\"}\n\n"
            + "retry: 2000\n: server shutting down\n\n",
            Sent(wire));
    }
}
