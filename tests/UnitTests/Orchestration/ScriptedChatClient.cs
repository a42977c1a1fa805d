using System.Net;
using System.Runtime.CompilerServices;
using AspireLlm.Orchestration.Providers;
using Microsoft.Extensions.AI;

namespace AspireLlm.UnitTests.Orchestration;

/// <summary>
/// A provider that plays a script: each call takes the next step (or the last one, repeated).
/// Streams send the answer a word per chunk and can fail after some of them.
/// </summary>
internal sealed class ScriptedChatClient(params ScriptedChatClient.Step[] steps) : IChatClient
{
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    public List<ChatOptions?> SeenOptions { get; } = [];

    public static Step Answer(string text = "fine answer here", int input = 10, int output = 3) => new(text, null, null, input, output);

    public static Step Fail(int status, TimeSpan? retryAfter = null) =>
        new(null, new ProviderHttpException((HttpStatusCode)status, retryAfter, null, $"Scripted {status}."), null, 0, 0);

    public static Step BreakAfter(int chunks, string text = "one two three four") => new(text, new IOException("Scripted broken stream."), chunks, 5, 4);

    /// <summary>Waits until cancelled.</summary>
    public static Step Hang() => new(null, null, -1, 0, 0);

    /// <summary>Streams the words but never says the answer is complete.</summary>
    public static Step NoFinish(string text = "one two three") => new(text, null, int.MaxValue, 5, 3);

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var step = Next(options);
        if (step.HangChunks == -1)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        if (step.Error is { } error)
        {
            throw error;
        }

        return new ChatResponse(new ChatMessage(ChatRole.Assistant, step.Text))
        {
            FinishReason = ChatFinishReason.Stop,
            Usage = new UsageDetails { InputTokenCount = step.Input, OutputTokenCount = step.Output },
        };
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var step = Next(options);
        if (step.HangChunks == -1)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        if (step.Error is { } early && step.HangChunks is null)
        {
            throw early;
        }

        var words = (step.Text ?? "").Split(' ');
        for (var i = 0; i < words.Length; i++)
        {
            if (i == step.HangChunks && step.Error is { } late)
            {
                throw late;
            }

            await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
            yield return new ChatResponseUpdate(ChatRole.Assistant, i == 0 ? words[i] : " " + words[i]);
        }

        if (step.HangChunks == int.MaxValue)
        {
            yield break;
        }

        yield return new ChatResponseUpdate
        {
            FinishReason = ChatFinishReason.Stop,
            Contents = [new UsageContent(new UsageDetails { InputTokenCount = step.Input, OutputTokenCount = step.Output })],
        };
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }

    private Step Next(ChatOptions? options)
    {
        lock (SeenOptions)
        {
            SeenOptions.Add(options);
        }

        var call = Interlocked.Increment(ref _calls) - 1;
        return steps[Math.Min(call, steps.Length - 1)];
    }

    /// <param name="HangChunks">-1: hang until cancelled; N: stream N chunks, then fail with <paramref name="Error"/>.</param>
    internal sealed record Step(string? Text, Exception? Error, int? HangChunks, int Input, int Output);
}
