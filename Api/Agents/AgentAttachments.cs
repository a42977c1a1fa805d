using System.Collections.Concurrent;
using AspireLlm.Orchestration.Agents;
using Microsoft.Extensions.Options;

namespace AspireLlm.Api.Agents;

/// <summary>
/// The agent tasks this replica's WebSocket sessions watch. While any session watches a task, its
/// attachment lease (<c>agent_tasks.attached_until</c>) is renewed, in one statement for all of them;
/// when the last session here lets go, the lease is set to the end of the grace period. Once the lease
/// lapses everywhere (the client did not resume on any replica, or this replica died), a Worker's
/// sweep cancels the task. Only tasks a session watched are ever cancelled this way.
/// </summary>
internal sealed partial class AgentAttachments(
    AgentStore store, IOptions<AgentOptions> options, TimeProvider timeProvider, ILogger<AgentAttachments> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<Guid, int> _watched = new();

    private TimeSpan Grace => TimeSpan.FromSeconds(options.Value.DetachGraceSeconds);

    public async Task AttachAsync(Guid jobId, CancellationToken cancellationToken)
    {
        if (_watched.AddOrUpdate(jobId, 1, (_, count) => count + 1) == 1)
        {
            await RenewAsync([jobId], cancellationToken);
        }
    }

    public async Task DetachAsync(Guid jobId)
    {
        var remaining = _watched.AddOrUpdate(jobId, 0, (_, count) => count - 1);
        if (remaining <= 0 && _watched.TryRemove(new KeyValuePair<Guid, int>(jobId, remaining)))
        {
            // The grace period starts now.
            await RenewAsync([jobId], CancellationToken.None);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Max(1, options.Value.DetachGraceSeconds / 3.0)), timeProvider);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (!_watched.IsEmpty)
            {
                await RenewAsync([.. _watched.Keys], stoppingToken);
            }
        }
    }

    private async Task RenewAsync(IReadOnlyCollection<Guid> jobIds, CancellationToken cancellationToken)
    {
        try
        {
            var now = timeProvider.GetUtcNow();
            await store.AttachAsync(jobIds, now + Grace, now, cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // The next renewal tries again; a lease lasts the whole grace period.
            LogRenewFailed(logger, exception);
        }
    }

    [LoggerMessage(2701, LogLevel.Warning, "Agent task attachments could not be renewed; trying again shortly.")]
    private static partial void LogRenewFailed(ILogger logger, Exception exception);
}
