using System.Buffers.Binary;
using System.Text;

namespace AspireLlm.Orchestration.Encryption;

/// <summary>
/// Associated data that names where a sealed value lives, so that it opens only there: the field
/// (e.g. <c>jobs.result</c>), the row's id and, where a row has parts, their numbers.
/// </summary>
public static class SealContext
{
    public const string JobInput = "jobs.input";
    public const string JobResult = "jobs.result";
    public const string JobItemResult = "job_items.result";
    public const string WebhookPayload = "webhook_deliveries.payload";
    public const string WebhookSecret = "api_keys.webhook_secret";
    public const string ConversationMessage = "conversation_messages.content";
    public const string DocumentTitle = "collection_documents.title";
    public const string DocumentContent = "collection_documents.content";
    public const string ChunkText = "collection_chunks.text";
    public const string ChunkEmbedding = "collection_chunks.embedding";
    public const string AgentState = "agent_tasks.state";
    public const string AgentAnswer = "agent_tasks.answer";

    public static byte[] For(string field, Guid id, params ReadOnlySpan<int> parts)
    {
        var data = new byte[Encoding.ASCII.GetByteCount(field) + 1 + 16 + 4 * parts.Length];
        var written = Encoding.ASCII.GetBytes(field, data);
        id.TryWriteBytes(data.AsSpan(written + 1), bigEndian: true, out _);
        for (var i = 0; i < parts.Length; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(written + 17 + 4 * i), parts[i]);
        }

        return data;
    }

    /// <summary>For a value kept in Redis: the key it is stored under.</summary>
    public static byte[] ForRedisKey(string key) => Encoding.UTF8.GetBytes(key);
}
