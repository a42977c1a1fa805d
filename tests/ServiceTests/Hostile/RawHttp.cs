using System.Net.Sockets;
using System.Text;

namespace AspireLlm.ServiceTests.Hostile;

/// <summary>
/// HTTP/1.1 over a bare socket, for what HttpClient will not do: send a body it was told is larger,
/// trickle bytes, reuse a connection after an error, and see exactly when the server closes it.
/// </summary>
public sealed class RawHttp : IDisposable
{
    private readonly TcpClient _client = new();
    private NetworkStream _stream = null!;

    public static async Task<RawHttp> ConnectAsync(Uri baseAddress)
    {
        var raw = new RawHttp();
        await raw._client.ConnectAsync(baseAddress.Host, baseAddress.Port);
        raw._stream = raw._client.GetStream();
        return raw;
    }

    public Task SendAsync(string text) => SendAsync(Encoding.ASCII.GetBytes(text));

    public async Task SendAsync(byte[] bytes)
    {
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
    }

    /// <summary>Sends what it can of <paramref name="bytes"/>; false when the server closed the connection first.</summary>
    public async Task<bool> TrySendAsync(byte[] bytes)
    {
        try
        {
            await SendAsync(bytes);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Reads one response: status, headers and a Content-Length body; null when the connection ended first.</summary>
    public async Task<RawResponse?> ReadResponseAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        var head = new StringBuilder();
        var buffer = new byte[1];
        try
        {
            while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
            {
                if (await _stream.ReadAsync(buffer, cancellation.Token) == 0)
                {
                    return null;
                }

                head.Append((char)buffer[0]);
            }

            var lines = head.ToString().Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
            var status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
            var headers = lines.Skip(1).Select(line => line.Split(':', 2)).ToDictionary(parts => parts[0].Trim(), parts => parts[1].Trim(), StringComparer.OrdinalIgnoreCase);
            if (headers.TryGetValue("Transfer-Encoding", out var encoding) && encoding.Contains("chunked", StringComparison.OrdinalIgnoreCase))
            {
                return new RawResponse(status, headers, await ReadChunkedAsync(cancellation.Token));
            }

            var body = new byte[headers.TryGetValue("Content-Length", out var length) ? int.Parse(length, System.Globalization.CultureInfo.InvariantCulture) : 0];
            await _stream.ReadExactlyAsync(body, cancellation.Token);
            return new RawResponse(status, headers, Encoding.UTF8.GetString(body));
        }
        catch (IOException)
        {
            return null;
        }
    }

    private async Task<string> ReadChunkedAsync(CancellationToken cancellationToken)
    {
        var body = new MemoryStream();
        while (true)
        {
            var size = Convert.ToInt32(await ReadLineAsync(cancellationToken), 16);
            var chunk = new byte[size];
            await _stream.ReadExactlyAsync(chunk, cancellationToken);
            await ReadLineAsync(cancellationToken);
            if (size == 0)
            {
                return Encoding.UTF8.GetString(body.ToArray());
            }

            body.Write(chunk);
        }
    }

    private async Task<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        var line = new StringBuilder();
        var buffer = new byte[1];
        while (!line.ToString().EndsWith("\r\n", StringComparison.Ordinal))
        {
            await _stream.ReadExactlyAsync(buffer, cancellationToken);
            line.Append((char)buffer[0]);
        }

        return line.ToString().TrimEnd();
    }

    /// <summary>True when the server closes the connection within <paramref name="timeout"/> (end of stream or reset).</summary>
    public async Task<bool> ClosedWithinAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        var buffer = new byte[4096];
        try
        {
            while (await _stream.ReadAsync(buffer, cancellation.Token) > 0)
            {
            }

            return true;
        }
        catch (IOException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public void Dispose() => _client.Dispose();
}

public sealed record RawResponse(int Status, IReadOnlyDictionary<string, string> Headers, string Body);
