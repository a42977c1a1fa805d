using System.Text.Json;

namespace AspireLlm.Tests.Shared;

/// <summary>One Server-Sent Event as a client sees it.</summary>
public sealed record SseEvent(long Id, string Type, JsonElement Data);

/// <summary>Reads an SSE response the way EventSource does: id, event and data lines, blank line ends an event.</summary>
public sealed class SseReader(Stream stream) : IDisposable
{
    private readonly StreamReader _reader = new(stream);

    /// <summary>The next event, or null at the end of the stream. Comment lines (heartbeats) are skipped.</summary>
    public async Task<SseEvent?> ReadAsync(CancellationToken cancellationToken = default)
    {
        long id = 0;
        string type = "message";
        string? data = null;
        while (await _reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                if (data is not null)
                {
                    using var document = JsonDocument.Parse(data);
                    return new SseEvent(id, type, document.RootElement.Clone());
                }

                continue;
            }

            if (line.StartsWith(':'))
            {
                continue;
            }

            var colon = line.IndexOf(':');
            var field = line[..colon];
            var value = line[(colon + 1)..].TrimStart();
            switch (field)
            {
                case "id": id = long.Parse(value); break;
                case "event": type = value; break;
                case "data": data = value; break;
            }
        }

        return null;
    }

    /// <summary>Reads until the terminal status event (or the end of the stream).</summary>
    public async Task<List<SseEvent>> ReadToEndAsync(CancellationToken cancellationToken = default)
    {
        var events = new List<SseEvent>();
        while (await ReadAsync(cancellationToken) is { } next)
        {
            events.Add(next);
        }

        return events;
    }

    public void Dispose() => _reader.Dispose();
}
