using Microsoft.Extensions.AI;

namespace AspireLlm.Tests.Shared;

public static class StreamReading
{
    /// <summary>
    /// Reads a model stream to its end or its error, collecting the text chunks; optionally cancels
    /// <paramref name="cancellation"/> once <paramref name="cancelAfter"/> chunks have arrived.
    /// </summary>
    public static async Task<(List<string> Chunks, Exception? Error)> ReadAsync(
        IAsyncEnumerable<ChatResponseUpdate> stream, int cancelAfter = int.MaxValue, CancellationTokenSource? cancellation = null)
    {
        var chunks = new List<string>();
        try
        {
            await foreach (var update in stream)
            {
                if (update.Text.Length > 0)
                {
                    chunks.Add(update.Text);
                }

                if (chunks.Count == cancelAfter)
                {
                    await cancellation!.CancelAsync();
                }
            }

            return (chunks, null);
        }
        catch (Exception exception)
        {
            return (chunks, exception);
        }
    }
}
