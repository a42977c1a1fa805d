using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Json.Schema;
using Microsoft.Extensions.AI;

namespace AspireLlm.Orchestration.StructuredOutput;

/// <summary>
/// When the caller asks for JSON (with or without a schema), checks that the answer is what was
/// asked for. A non-streamed answer that fails gets one more try with a repair instruction, then
/// an error. A streamed answer has already reached the caller, so a failure ends the stream with
/// an error instead of a retry. Schemas are checked with JsonSchema.Net.
/// </summary>
internal sealed class StructuredOutputChatClient(IChatClient inner) : DelegatingChatClient(inner)
{
    public override Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        options?.ResponseFormat is ChatResponseFormatJson format
            ? GetCheckedResponseAsync(messages as IReadOnlyList<ChatMessage> ?? [.. messages], options, format, cancellationToken)
            : base.GetResponseAsync(messages, options, cancellationToken);

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var format = options?.ResponseFormat as ChatResponseFormatJson;
        var text = format is null ? null : new StringBuilder();
        await foreach (var update in base.GetStreamingResponseAsync(messages, options, cancellationToken))
        {
            text?.Append(update.Text);
            yield return update;
        }

        if (format is not null && Check(text!.ToString(), format) is { } problem)
        {
            throw new StructuredOutputException($"The answer is not the JSON that was asked for: {problem}");
        }
    }

    private async Task<ChatResponse> GetCheckedResponseAsync(
        IReadOnlyList<ChatMessage> messages, ChatOptions options, ChatResponseFormatJson format, CancellationToken cancellationToken)
    {
        var first = await base.GetResponseAsync(messages, options, cancellationToken);
        if (Check(first.Text, format) is not { } problem)
        {
            return first;
        }

        List<ChatMessage> repair =
        [
            .. messages,
            .. first.Messages,
            new(ChatRole.User,
                $"Your previous reply was not valid for the required format: {problem} " +
                "Reply again with only the JSON value, matching the schema exactly, and nothing else."),
        ];
        var second = await base.GetResponseAsync(repair, options, cancellationToken);
        if (Check(second.Text, format) is { } again)
        {
            throw new StructuredOutputException($"The answer was still not the JSON that was asked for after one repair attempt: {again}");
        }

        // The caller is charged for both calls, so its usage shows both.
        if (first.Usage is { } firstUsage)
        {
            (second.Usage ??= new UsageDetails()).Add(firstUsage);
        }

        return second;
    }

    /// <summary>Null when <paramref name="text"/> is valid; otherwise what is wrong with it, briefly.</summary>
    internal static string? Check(string text, ChatResponseFormatJson format)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text);
        }
        catch (JsonException exception)
        {
            return $"it is not JSON ({exception.Message.Split('.')[0]}).";
        }

        using (document)
        {
            if (format.Schema is not { } schemaElement)
            {
                return null;
            }

            // A registry per build: schemas with the same $id from different callers must not collide.
            var schema = JsonSchema.Build(schemaElement, new BuildOptions { SchemaRegistry = new SchemaRegistry() });
            var result = schema.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
            if (result.IsValid)
            {
                return null;
            }

            var errors = (result.Details ?? [])
                .Where(detail => detail.Errors is { Count: > 0 })
                .SelectMany(detail => detail.Errors!.Select(error => $"{detail.InstanceLocation}: {error.Value}"))
                .Take(5);
            return $"it does not match the schema ({string.Join("; ", errors)}).";
        }
    }
}

/// <summary>The model did not produce the structured output that was asked for.</summary>
public sealed class StructuredOutputException(string message) : Exception(message);
