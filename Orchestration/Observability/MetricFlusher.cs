using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AspireLlm.Orchestration.Observability;

/// <summary>
/// Adds this process's metric sums to Postgres every <see cref="ObservabilityOptions.FlushInterval"/>
/// (one upsert for the minutes, one for the hours) and once more on the way out. A failed write puts
/// the sums back for the next try. Purges old rollup rows about once an hour.
/// </summary>
public sealed partial class MetricFlusher(
    MetricRollup rollup, NpgsqlDataSource dataSource, IOptions<ObservabilityOptions> options, TimeProvider timeProvider, ILogger<MetricFlusher> logger)
    : BackgroundService
{
    private long _lastPurge;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.FlushInterval, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync(stoppingToken);
                await PurgeIfDueAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await FlushAsync(cancellationToken);
        }
        catch (ObjectDisposedException exception)
        {
            // The host is being torn down around us (its data source already disposed): the last sums are lost, the shutdown is not.
            LogFlushFailed(logger, 0, exception);
        }
    }

    /// <summary>Writes what was recorded since the last flush; public for tests.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var samples = rollup.Drain();
        if (samples.Count == 0)
        {
            return;
        }

        try
        {
            await WriteAsync(samples, cancellationToken);
        }
        catch (Exception exception) when (exception is NpgsqlException or TimeoutException or OperationCanceledException)
        {
            rollup.Restore(samples);
            LogFlushFailed(logger, samples.Count, exception);
        }
    }

    private async Task WriteAsync(IReadOnlyList<MetricSample> samples, CancellationToken cancellationToken)
    {
        await using var batch = dataSource.CreateBatch();
        foreach (var (table, bucket) in new[] { ("metric_minutes", "bucket"), ("metric_hours", "date_trunc('hour', bucket)") })
        {
            // Grouped and sorted: two replicas flushing at once take their row locks in the same order.
            var command = new NpgsqlBatchCommand($"""
                INSERT INTO {table} AS m (name, bucket, dim1, dim2, dim3, count, sum, buckets)
                SELECT name, {bucket}, dim1, dim2, dim3, sum(count), sum(sum), histogram_sum(buckets::bigint[])
                FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::float8[], $8::text[])
                     AS s (name, bucket, dim1, dim2, dim3, count, sum, buckets)
                GROUP BY 1, 2, 3, 4, 5
                ORDER BY 1, 2, 3, 4, 5
                ON CONFLICT (name, bucket, dim1, dim2, dim3) DO UPDATE SET
                    count = m.count + EXCLUDED.count, sum = m.sum + EXCLUDED.sum, buckets = histogram_add(m.buckets, EXCLUDED.buckets)
                """);
            command.Parameters.Add(new NpgsqlParameter { Value = samples.Select(s => s.Name).ToArray() });
            command.Parameters.Add(new NpgsqlParameter { Value = samples.Select(s => s.Minute).ToArray() });
            command.Parameters.Add(new NpgsqlParameter { Value = samples.Select(s => s.Dim1).ToArray() });
            command.Parameters.Add(new NpgsqlParameter { Value = samples.Select(s => s.Dim2).ToArray() });
            command.Parameters.Add(new NpgsqlParameter { Value = samples.Select(s => s.Dim3).ToArray() });
            command.Parameters.Add(new NpgsqlParameter { Value = samples.Select(s => s.Count).ToArray() });
            command.Parameters.Add(new NpgsqlParameter { Value = samples.Select(s => s.Sum).ToArray() });
            command.Parameters.Add(new NpgsqlParameter
            {
                Value = samples.Select(s => s.Buckets is null ? null : "{" + string.Join(',', s.Buckets) + "}").ToArray(),
                NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text,
            });
            batch.BatchCommands.Add(command);
        }

        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task PurgeIfDueAsync(CancellationToken cancellationToken)
    {
        if (_lastPurge != 0 && timeProvider.GetElapsedTime(_lastPurge) < TimeSpan.FromHours(1))
        {
            return;
        }

        _lastPurge = timeProvider.GetTimestamp();
        try
        {
            var now = timeProvider.GetUtcNow();
            await using var batch = dataSource.CreateBatch();
            batch.BatchCommands.Add(new NpgsqlBatchCommand("DELETE FROM metric_minutes WHERE bucket < $1") { Parameters = { new() { Value = now.AddDays(-options.Value.MinuteRetentionDays) } } });
            batch.BatchCommands.Add(new NpgsqlBatchCommand("DELETE FROM metric_hours WHERE bucket < $1") { Parameters = { new() { Value = now.AddDays(-options.Value.HourRetentionDays) } } });
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
        {
            LogFlushFailed(logger, 0, exception);
        }
    }

    [LoggerMessage(1400, LogLevel.Warning, "Could not add {Count} metric series to Postgres; they are kept for the next try.")]
    private static partial void LogFlushFailed(ILogger logger, int count, Exception exception);
}
