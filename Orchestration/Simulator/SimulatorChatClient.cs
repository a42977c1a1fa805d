using System.Net;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AspireLlm.Orchestration.Providers;
using Microsoft.Extensions.AI;

namespace AspireLlm.Orchestration.Simulator;

/// <summary>
/// A provider that needs no network and no key: its answer is a pure function of the model id and
/// the messages, so tests can assert exact output and benchmarks measure our overhead, not a model's.
/// Latency and token rate come from <see cref="SimulatorOptions"/> and are timed by a
/// <see cref="TimeProvider"/> so tests can drive them with a fake clock. <see cref="SimulatorFaults"/>
/// make it fail the way real providers fail, with the same exceptions the real providers' HTTP
/// layer raises.
/// </summary>
public sealed class SimulatorChatClient(
    SimulatorOptions options, TimeProvider timeProvider, string modelId = "simulator", SimulatorFaults? faults = null) : IChatClient
{
    private readonly Random? _faultDraws = faults is null ? null : faults.Seed is { } seed ? new Random(seed) : new Random();

    private static readonly string[] Vocabulary =
    [
        "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
        "india", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa",
        "quebec", "romeo", "sierra", "tango", "uniform", "victor", "whiskey", "xray",
        "yankee", "zulu", "amber", "basalt", "cobalt", "dune", "ember", "fjord",
    ];

    public ChatClientMetadata Metadata { get; } = new("simulator", defaultModelId: modelId);

    public async Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in GetStreamingResponseAsync(messages, options, cancellationToken))
        {
            updates.Add(update);
        }

        return updates.ToChatResponse();
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? chatOptions = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var messageList = messages as IReadOnlyList<ChatMessage> ?? messages.ToList();
        var model = chatOptions?.ModelId ?? modelId;
        var fault = DrawFault();
        var words = Generate(model, messageList, chatOptions?.MaxOutputTokens ?? options.DefaultMaxOutputTokens);
        if (chatOptions?.ResponseFormat is ChatResponseFormatJson)
        {
            words = [fault == Fault.InvalidJson ? "{\"answer\": " + words[0] : JsonSerializer.Serialize(new { answer = string.Join(' ', words) })];
        }
        var responseId = "chatcmpl-sim-" + Convert.ToHexString(Digest(model, messageList))[..24].ToLowerInvariant();
        var createdAt = timeProvider.GetUtcNow();

        if (options.LatencyMs > 0)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(options.LatencyMs), timeProvider, cancellationToken);
        }

        switch (fault)
        {
            case Fault.RateLimited:
                throw new ProviderHttpException((HttpStatusCode)429, TimeSpan.FromSeconds(faults!.RetryAfterSeconds), "rate_limit_exceeded", "Simulated rate limit.");
            case Fault.ServerError:
                throw new ProviderHttpException(HttpStatusCode.InternalServerError, null, "server_error", "Simulated server error.");
            case Fault.Timeout:
                await Task.Delay(Timeout.InfiniteTimeSpan, timeProvider, cancellationToken);
                break;
        }

        if (chatOptions?.AdditionalProperties?.TryGetValue(SimulatorScript.PropertyKey, out var script) == true
            && script is JsonElement steps && SimulatorScript.Play(steps, messageList) is { } played)
        {
            // An agent's scripted turn: one response with the turn's text and function call.
            cancellationToken.ThrowIfCancellationRequested();
            var outputTokens = played.Sum(content => content switch
            {
                TextContent text => text.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length,
                TextReasoningContent reasoning => reasoning.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length,
                _ => 8,
            });
            yield return new ChatResponseUpdate(ChatRole.Assistant, [.. played])
            {
                ResponseId = responseId,
                MessageId = responseId,
                ModelId = model,
                CreatedAt = createdAt,
            };
            yield return new ChatResponseUpdate
            {
                Role = ChatRole.Assistant,
                ResponseId = responseId,
                MessageId = responseId,
                ModelId = model,
                CreatedAt = createdAt,
                FinishReason = played.Any(content => content is FunctionCallContent) ? ChatFinishReason.ToolCalls : ChatFinishReason.Stop,
                Contents =
                [
                    new UsageContent(new UsageDetails
                    {
                        InputTokenCount = CountInputTokens(messageList),
                        OutputTokenCount = outputTokens,
                        TotalTokenCount = CountInputTokens(messageList) + outputTokens,
                    }),
                ],
            };
            yield break;
        }

        var perToken = options.TokensPerSecond > 0 ? TimeSpan.FromSeconds(1.0 / options.TokensPerSecond) : TimeSpan.Zero;
        for (var i = 0; i < words.Count; i++)
        {
            if (i > 0 && perToken > TimeSpan.Zero)
            {
                await Task.Delay(perToken, timeProvider, cancellationToken);
            }

            cancellationToken.ThrowIfCancellationRequested();
            if (fault == Fault.BrokenStream && i == faults!.BrokenStreamAfterChunks)
            {
                throw new IOException("Simulated broken stream: the connection closed mid-answer.");
            }

            yield return new ChatResponseUpdate(ChatRole.Assistant, i == 0 ? words[i] : " " + words[i])
            {
                ResponseId = responseId,
                MessageId = responseId,
                ModelId = model,
                CreatedAt = createdAt,
            };
        }

        var truncated = words.Count >= (chatOptions?.MaxOutputTokens ?? int.MaxValue);
        yield return new ChatResponseUpdate
        {
            Role = ChatRole.Assistant,
            ResponseId = responseId,
            MessageId = responseId,
            ModelId = model,
            CreatedAt = createdAt,
            FinishReason = truncated ? ChatFinishReason.Length : ChatFinishReason.Stop,
            Contents =
            [
                new UsageContent(new UsageDetails
                {
                    InputTokenCount = CountInputTokens(messageList),
                    OutputTokenCount = words.Count,
                    TotalTokenCount = CountInputTokens(messageList) + words.Count,
                }),
            ],
        };
    }

    private Fault DrawFault()
    {
        if (faults is null || _faultDraws is null)
        {
            return Fault.None;
        }

        double draw;
        lock (_faultDraws)
        {
            draw = _faultDraws.NextDouble();
        }

        foreach (var (share, fault) in new[]
        {
            (faults.RateLimitShare, Fault.RateLimited), (faults.ServerErrorShare, Fault.ServerError),
            (faults.TimeoutShare, Fault.Timeout), (faults.BrokenStreamShare, Fault.BrokenStream),
            (faults.InvalidJsonShare, Fault.InvalidJson),
        })
        {
            if (draw < share)
            {
                return fault;
            }

            draw -= share;
        }

        return Fault.None;
    }

    private enum Fault
    {
        None,
        RateLimited,
        ServerError,
        Timeout,
        BrokenStream,
        InvalidJson,
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }

    /// <summary>The words of the answer: 8 to 24 of them, chosen by a SHA-256 digest of the input.</summary>
    internal static IReadOnlyList<string> Generate(string model, IReadOnlyList<ChatMessage> messages, int maxOutputTokens)
    {
        var digest = Digest(model, messages);
        var count = Math.Min(8 + digest[0] % 17, Math.Max(1, maxOutputTokens));
        var words = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            words.Add(Vocabulary[digest[(i + 1) % digest.Length] % Vocabulary.Length]);
        }

        return words;
    }

    /// <summary>A rough whitespace count; real token counting belongs to the tokenizer, not the simulator.</summary>
    internal static int CountInputTokens(IReadOnlyList<ChatMessage> messages) =>
        messages.Sum(m => 3 + m.Text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length);

    private static byte[] Digest(string model, IReadOnlyList<ChatMessage> messages)
    {
        var text = new StringBuilder(model);
        foreach (var message in messages)
        {
            text.Append('\u001e').Append(message.Role.Value).Append('\u001f').Append(message.Text);
        }

        return SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString()));
    }
}
