using Microsoft.Extensions.Options;
using Npgsql;

namespace AspireLlm.Worker.Observability;

/// <summary>
/// Counts pending and running jobs every <c>Observability:FlushInterval</c> (on the small index over
/// active jobs) for the queue-depth gauge. Not traced and logged only when it fails: it is polling.
/// </summary>
internal sealed partial class QueueDepthSampler(
    NpgsqlDataSource dataSource, WorkerTelemetry telemetry, IOptions<Orchestration.Observability.ObservabilityOptions> options, TimeProvider timeProvider,
    ILogger<QueueDepthSampler> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromTicks(Math.Max(options.Value.FlushInterval.Ticks, TimeSpan.FromSeconds(5).Ticks)), timeProvider);
        try
        {
            do
            {
                try
                {
                    await using var command = dataSource.CreateCommand(
                        "SELECT kind, status, count(*) FROM jobs WHERE status IN ('pending', 'processing') GROUP BY kind, status");
                    var depths = new List<QueueDepth>();
                    await using var reader = await command.ExecuteReaderAsync(stoppingToken);
                    while (await reader.ReadAsync(stoppingToken))
                    {
                        depths.Add(new QueueDepth(reader.GetString(0), reader.GetString(1), reader.GetInt64(2)));
                    }

                    telemetry.QueueDepths(depths);
                }
                catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
                {
                    LogSampleFailed(logger, exception);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(3400, LogLevel.Warning, "Could not count the queued jobs for the queue-depth gauge.")]
    private static partial void LogSampleFailed(ILogger logger, Exception exception);
}
