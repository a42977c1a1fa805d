using AspireLlm.Orchestration.Jobs;
using AspireLlm.Orchestration.Jobs.Events;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace AspireLlm.Worker.Retention;

/// <summary>
/// Erases the content of jobs that finished more than <see cref="RetentionOptions.JobContentDays"/>
/// ago, in small batches (each its own short transaction, rows another Worker holds skipped), so
/// the purge never holds many locks or competes with jobs for long. Every Worker runs one; they
/// share the work.
/// </summary>
internal sealed partial class JobContentPurger(
    JobStore store, JobEventLog events, IOptions<RetentionOptions> options, TimeProvider timeProvider, ILogger<JobContentPurger> logger)
    : BackgroundService
{
    internal const int BatchSize = 200;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.JobContentDays == 0)
        {
            LogKeptForEver(logger);
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await PurgeDueAsync(stoppingToken);
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                LogPurgeFailed(logger, exception);
            }

            await Task.Delay(TimeSpan.FromMinutes(options.Value.PurgeIntervalMinutes), timeProvider, stoppingToken);
        }
    }

    /// <summary>Erases everything past retention now; returns how many jobs.</summary>
    public async Task<int> PurgeDueAsync(CancellationToken cancellationToken)
    {
        var total = 0;
        while (true)
        {
            var now = timeProvider.GetUtcNow();
            var erased = await store.PurgeContentAsync(now - TimeSpan.FromDays(options.Value.JobContentDays), BatchSize, now, cancellationToken);
            if (erased.Count > 0)
            {
                await ForgetEventsAsync(erased);
            }

            total += erased.Count;
            if (erased.Count < BatchSize)
            {
                break;
            }
        }

        if (total > 0)
        {
            LogPurged(logger, total, options.Value.JobContentDays);
        }

        return total;
    }

    /// <summary>Events expire a day after a job's last one anyway; this only makes sure.</summary>
    private async Task ForgetEventsAsync(IReadOnlyList<Guid> jobIds)
    {
        try
        {
            await events.DeleteAsync(jobIds);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            LogEventsNotDeleted(logger, jobIds.Count, exception);
        }
    }

    [LoggerMessage(3401, LogLevel.Information, "Erased the content of {Count} job(s) finished more than {Days} day(s) ago.")]
    private static partial void LogPurged(ILogger logger, int count, int days);

    [LoggerMessage(3402, LogLevel.Warning, "The job content purge failed; it runs again at its next interval.")]
    private static partial void LogPurgeFailed(ILogger logger, Exception exception);

    [LoggerMessage(3403, LogLevel.Warning, "The Redis events of {Count} purged job(s) could not be deleted; they expire within a day.")]
    private static partial void LogEventsNotDeleted(ILogger logger, int count, Exception exception);

    [LoggerMessage(3404, LogLevel.Information, "Retention:JobContentDays is 0: finished jobs keep their content.")]
    private static partial void LogKeptForEver(ILogger logger);
}
