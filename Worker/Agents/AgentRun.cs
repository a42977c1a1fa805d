using System.Text;
using System.Text.Json;
using AspireLlm.Orchestration.Agents;
using AspireLlm.Orchestration.Jobs.Events;
using Microsoft.Extensions.AI;
using StackExchange.Redis;

namespace AspireLlm.Worker.Agents;

/// <summary>
/// One run of an agent task: its conversation and checkpoint in memory, and the one way they are
/// saved. Every step is checkpointed first and its events published after, each event with the number
/// the checkpoint gave it; a run that resumes re-sends the last step's events, and the log appends
/// only those it does not hold yet. So the client sees each event once, in order, whatever crashed.
/// </summary>
internal sealed partial class AgentRun(Guid jobId, string taskId, AgentStore store, JobEventLog events, TimeProvider timeProvider, ILogger logger)
{
    public AgentCheckpoint Checkpoint { get; private set; } = new();

    public int Version { get; private set; }

    public List<ChatMessage> Messages { get; private set; } = [];

    public string TaskId => taskId;

    public Guid JobId => jobId;

    /// <summary>The stored answer to the pending question, if it came (read with the checkpoint).</summary>
    public string? Answer { get; private set; }

    public DateTimeOffset? WaitingSince { get; private set; }

    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        var stored = await store.LoadAsync(jobId, cancellationToken);
        Version = stored.Version;
        Answer = stored.RequestId is null ? stored.Answer : null;
        WaitingSince = stored.WaitingSince;
        if (stored.Checkpoint is { } checkpoint)
        {
            Checkpoint = checkpoint;
            Messages = checkpoint.ReadMessages();
        }
    }

    public bool IsNew => Checkpoint.Messages.ValueKind != JsonValueKind.Array;

    /// <summary>Re-sends the last checkpoint's events; those already in the log are not appended again.</summary>
    public async Task PublishOutboxAsync()
    {
        foreach (var item in Checkpoint.Outbox)
        {
            try
            {
                await events.AppendAtAsync(jobId, item.Seq, Encoding.UTF8.GetBytes(item.Json));
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException)
            {
                // Events are the live view; the task's state of record is the checkpoint.
                LogPublishFailed(logger, jobId, exception);
                return;
            }
        }
    }

    /// <summary>Checkpoints the conversation with this step's events and step-log entries, then publishes the events.</summary>
    public async Task SaveAsync(
        AgentCheckpoint next, IReadOnlyList<AgentEvent> stepEvents, IReadOnlyList<object> stepLog, string? currentStep, CancellationToken cancellationToken,
        DateTimeOffset? waitingSince = null)
    {
        var seq = Checkpoint.NextSeq;
        var outbox = stepEvents.Select(item => new OutboxEvent(seq++, item.ToString())).ToList();
        var now = timeProvider.GetUtcNow();
        Checkpoint = next with { Messages = AgentCheckpoint.WriteMessages(Messages), NextSeq = seq, Outbox = outbox };
        var log = stepLog.Count == 0 ? (JsonElement?)null
            : JsonSerializer.SerializeToElement(stepLog.Select(entry => Stamp(entry, now)).ToList());
        Version = await store.SaveAsync(jobId, Checkpoint, Version, waitingSince, now, cancellationToken, log, currentStep);
        if (next.Pending is null)
        {
            Answer = null;
        }

        WaitingSince = waitingSince;
        await PublishOutboxAsync();
    }

    public AgentEvent Event(string type) => new(type, taskId, timeProvider.GetUtcNow());

    private static Dictionary<string, object?> Stamp(object entry, DateTimeOffset now)
    {
        var stamped = new Dictionary<string, object?> { ["at"] = now };
        foreach (var property in JsonSerializer.SerializeToElement(entry).EnumerateObject())
        {
            stamped[property.Name] = property.Value;
        }

        return stamped;
    }

    [LoggerMessage(3703, LogLevel.Warning, "Events of agent task {JobId} could not be published; its checkpoint stands.")]
    private static partial void LogPublishFailed(ILogger logger, Guid jobId, Exception exception);
}
