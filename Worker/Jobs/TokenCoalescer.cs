using System.Text;

namespace AspireLlm.Worker.Jobs;

/// <summary>
/// Groups streamed chunks into token events at most every <see cref="Window"/>: a slow model's tokens
/// still reach watchers one by one, while a fast one does not cost a Redis round trip per token
/// (measured: per-token events were a large share of a worker's CPU per job at zero model latency).
/// </summary>
internal sealed class TokenCoalescer(TimeProvider timeProvider)
{
    public static readonly TimeSpan Window = TimeSpan.FromMilliseconds(50);

    private readonly StringBuilder _pending = new();
    private long _lastFlush = timeProvider.GetTimestamp();

    /// <summary>Adds a chunk; returns the text to publish now, or null to keep collecting.</summary>
    public string? Add(string text)
    {
        _pending.Append(text);
        return timeProvider.GetElapsedTime(_lastFlush) >= Window ? Flush() : null;
    }

    /// <summary>Whatever is pending, or null when nothing is.</summary>
    public string? Flush()
    {
        _lastFlush = timeProvider.GetTimestamp();
        if (_pending.Length == 0)
        {
            return null;
        }

        var text = _pending.ToString();
        _pending.Clear();
        return text;
    }
}
