using System.Text.Json;
using System.Text.Json.Nodes;
using AspireLlm.Orchestration.ChatRequests;
using AspireLlm.Orchestration.Retrieval;
using Microsoft.Extensions.AI;

namespace AspireLlm.Api.Gateway;

/// <summary>
/// A streamed answer in OpenAI's <c>chat.completion.chunk</c> events; the whole answer's shape is
/// <see cref="ChatCompletionWriter"/>'s, which chat jobs share.
/// </summary>
internal static class ChatChunkWriter
{
    public static object Chunk(string id, long created, string alias, object delta, string? finishReason) => new
    {
        id,
        @object = "chat.completion.chunk",
        created,
        model = alias,
        choices = new[] { new { index = 0, delta, finish_reason = finishReason, logprobs = (object?)null } },
    };

    public static object UsageChunk(string id, long created, string alias, UsageDetails usage) => new
    {
        id,
        @object = "chat.completion.chunk",
        created,
        model = alias,
        choices = Array.Empty<object>(),
        usage = ChatCompletionWriter.Usage(usage),
    };

    /// <summary>The last event of a grounded stream: no choices, its citations and retrieval status.</summary>
    public static object CitationsChunk(string id, long created, string alias, GroundingResult grounding)
    {
        var node = JsonSerializer.SerializeToNode(new { id, @object = "chat.completion.chunk", created, model = alias, choices = Array.Empty<object>() },
            ChatCompletionWriter.Json)!.AsObject();
        foreach (var (name, value) in grounding.ResponseFields())
        {
            node[name] = JsonSerializer.SerializeToNode(value, ChatCompletionWriter.Json);
        }

        return node;
    }

    /// <summary>The delta of one streamed update: its text and its tool calls (each call sent whole, OpenAI allows that).</summary>
    public static object? Delta(ChatResponseUpdate update, ref int toolIndex)
    {
        var text = update.Text;
        var calls = update.Contents.OfType<FunctionCallContent>().ToList();
        if (text.Length == 0 && calls.Count == 0)
        {
            return null;
        }

        var index = toolIndex;
        toolIndex += calls.Count;
        return calls.Count == 0
            ? new { content = text }
            : new
            {
                content = text.Length == 0 ? null : text,
                tool_calls = calls.Select((call, i) => new
                {
                    index = index + i,
                    id = call.CallId,
                    type = "function",
                    function = new { name = call.Name, arguments = ChatCompletionWriter.Arguments(call) },
                }),
            };
    }
}
