namespace AspireLlm.Orchestration.Jobs;

/// <summary>The kinds of asynchronous work, and the Hangfire queue each runs on.</summary>
public static class JobKinds
{
    public const string ChatCompletion = "chat.completion";
    public const string Batch = "batch";

    /// <summary>Indexing a collection's document, or rebuilding its vector index; created by the collections endpoints only.</summary>
    public const string Index = "index";
    /// <summary>An interactive, tool-using agent task (the WebSocket's tasks are jobs of this kind).</summary>
    public const string Agent = "agent";

    public static readonly IReadOnlyDictionary<string, string> Queues = new Dictionary<string, string>
    {
        [ChatCompletion] = "chat",
        [Batch] = "batch",
        [Index] = "index",
        [Agent] = "agent",
    };

    public static bool IsKnown(string kind) => Queues.ContainsKey(kind);
}

public static class JobStatus
{
    public const string Pending = "pending";
    public const string Processing = "processing";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static readonly IReadOnlyList<string> All = [Pending, Processing, Completed, Failed, Cancelled];

    public static bool IsFinal(string status) => status is Completed or Failed or Cancelled;
}
