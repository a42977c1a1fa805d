using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AspireLlm.SystemTests;

/// <summary>A span as an OTLP exporter sent it: ids in hex, name, the service that sent it, string and integer attributes.</summary>
public sealed record ReceivedSpan(string Service, string TraceId, string SpanId, string ParentSpanId, string Name, IReadOnlyDictionary<string, string> Attributes);

/// <summary>
/// A minimal OTLP/HTTP (protobuf) trace receiver, so a test can see the spans the services export:
/// it decodes just the fields of ExportTraceServiceRequest that tests look at.
/// </summary>
public sealed class OtlpReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<ReceivedSpan> _spans = new();

    public OtlpReceiver()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _ = Task.Run(ServeAsync);
    }

    public int Port { get; }

    public string Endpoint => $"http://127.0.0.1:{Port}";

    public IReadOnlyList<ReceivedSpan> Spans => [.. _spans];

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (!_listener.IsListening)
            {
                return;
            }
            catch (HttpListenerException)
            {
                return;
            }

            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            if (context.Request.Url?.AbsolutePath == "/v1/traces")
            {
                try
                {
                    Decode(body.ToArray());
                }
                catch (Exception) when (body.Length > 0)
                {
                    // Not ours to judge: a test looks for the spans it expects.
                }
            }

            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/x-protobuf";
            context.Response.Close();
        }
    }

    private void Decode(byte[] request)
    {
        foreach (var resourceSpans in Fields(request).Where(f => f.Number == 1))
        {
            var service = "";
            foreach (var field in Fields(resourceSpans.Bytes))
            {
                if (field.Number == 1)
                {
                    service = Attributes(Fields(field.Bytes).Where(f => f.Number == 1)).GetValueOrDefault("service.name", "");
                }
            }

            foreach (var scopeSpans in Fields(resourceSpans.Bytes).Where(f => f.Number == 2))
            {
                foreach (var span in Fields(scopeSpans.Bytes).Where(f => f.Number == 2))
                {
                    var fields = Fields(span.Bytes).ToList();
                    string Hex(int number) => Convert.ToHexStringLower(fields.FirstOrDefault(f => f.Number == number).Bytes ?? []);
                    _spans.Enqueue(new ReceivedSpan(service, Hex(1), Hex(2), Hex(4),
                        Encoding.UTF8.GetString(fields.FirstOrDefault(f => f.Number == 5).Bytes ?? []),
                        Attributes(fields.Where(f => f.Number == 9))));
                }
            }
        }
    }

    private static Dictionary<string, string> Attributes(IEnumerable<Field> keyValues)
    {
        var attributes = new Dictionary<string, string>();
        foreach (var keyValue in keyValues)
        {
            var parts = Fields(keyValue.Bytes).ToList();
            var key = Encoding.UTF8.GetString(parts.FirstOrDefault(f => f.Number == 1).Bytes ?? []);
            if (parts.FirstOrDefault(f => f.Number == 2).Bytes is { } value)
            {
                var any = Fields(value).FirstOrDefault();
                attributes[key] = any.Number switch
                {
                    1 => Encoding.UTF8.GetString(any.Bytes ?? []),
                    3 => any.Varint.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    _ => "",
                };
            }
        }

        return attributes;
    }

    private readonly record struct Field(int Number, byte[]? Bytes, long Varint);

    /// <summary>The fields of one protobuf message (varint, 64-bit, length-delimited and 32-bit wire types).</summary>
    private static IEnumerable<Field> Fields(byte[]? message)
    {
        message ??= [];
        var position = 0;
        while (position < message.Length)
        {
            var tag = ReadVarint(message, ref position);
            var number = (int)(tag >> 3);
            switch (tag & 7)
            {
                case 0:
                    yield return new Field(number, null, ReadVarint(message, ref position));
                    break;
                case 1:
                    position += 8;
                    break;
                case 2:
                    var length = (int)ReadVarint(message, ref position);
                    yield return new Field(number, message[position..(position + length)], 0);
                    position += length;
                    break;
                case 5:
                    position += 4;
                    break;
                default:
                    yield break;
            }
        }
    }

    private static long ReadVarint(byte[] message, ref int position)
    {
        long value = 0;
        for (var shift = 0; position < message.Length; shift += 7)
        {
            var b = message[position++];
            value |= (long)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                break;
            }
        }

        return value;
    }

    public void Dispose() => _listener.Close();
}
