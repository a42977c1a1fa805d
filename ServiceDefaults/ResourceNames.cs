namespace AspireLlm.ServiceDefaults;

/// <summary>
/// Resource names shared by the AppHost and the services. Each name is also the
/// connection-string key and the service-discovery host, so it lives in one place.
/// </summary>
public static class ResourceNames
{
    public const string Redis = "cache";

    /// <summary>The vector index (Redis 8 vector sets; Garnet locally). Falls back to <see cref="Redis"/> when not configured.</summary>
    public const string Vectors = "vectors";
    public const string Postgres = "postgres";
    public const string Database = "llmdb";
    public const string Api = "api";
    public const string Worker = "worker";
    public const string Dashboard = "dashboard";
    public const string Migrations = "migrations";
    public const string McpSample = "mcp-sample";
    public const string AdminKey = "admin-key";
    public const string ConversationKey = "conversation-key";
    public const string OpenAiKey = "openai-api-key";
    public const string AnthropicKey = "anthropic-api-key";
}
