using AspireLlm.Orchestration.Admission;
using AspireLlm.Orchestration.Observability;
using AspireLlm.Orchestration.Pipeline;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AspireLlm.Api.Observability;

/// <summary>
/// The usage of synchronous gateway calls (chat completions, conversation turns, embeddings), which
/// jobs' ledger rows do not cover. Each call is summed in memory per minute, key, alias and deployment
/// (a dictionary lookup and a lock on the request's path); every <see cref="ObservabilityOptions.UsageFlushInterval"/>
/// the sums become <c>usage_ledger</c> rows with <c>source = 'gateway'</c> and the number of calls in
/// <c>requests</c>, and the ledger's trigger adds them to <c>usage_daily</c>. A cache hit counts as a
/// call with no tokens on deployment <c>cache</c>; a refused call (nothing charged) is not a row.
/// </summary>
internal sealed partial class GatewayUsage(
    NpgsqlDataSource dataSource, ApiTelemetry telemetry, IOptions<ObservabilityOptions> options, TimeProvider timeProvider, ILogger<GatewayUsage> logger)
    : BackgroundService, IModelCallObserver
{
    private readonly Accumulator<UsageKey, UsageCell> _usage = new();

    public void Completed(string alias, ModelCallContext context, Exception? failure)
    {
        if (context.Principal is not AdmissionSubject subject)
        {
            return;
        }

        var cached = context.Cache is CacheOutcome.Hit or CacheOutcome.Stale or CacheOutcome.SemanticHit && context.Deployment is null;
        if (!cached && context.InputTokens == 0 && context.OutputTokens == 0 && context.Cost == 0)
        {
            return;
        }

        Record(subject.TenantId, subject.KeyId, alias, cached ? "cache" : context.Deployment ?? "none", context.InputTokens, context.OutputTokens, context.Cost);
    }

    /// <summary>One call's usage (embeddings report theirs here directly).</summary>
    public void Record(string tenantId, Guid keyId, string alias, string deployment, long inputTokens, long outputTokens, decimal cost) =>
        _usage.Update(new UsageKey(timeProvider.GetUtcNow().ToUnixTimeSeconds() / 60, tenantId, keyId, alias, deployment),
            (inputTokens, outputTokens, cost), static (cell, usage) =>
            {
                cell.Requests++;
                cell.InputTokens += usage.inputTokens;
                cell.OutputTokens += usage.outputTokens;
                cell.Cost += usage.cost;
            });

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.UsageFlushInterval, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync(stoppingToken);
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
        catch (ObjectDisposedException)
        {
            // A test host tears its services down around us (its data source already disposed); a real process stops us first.
        }
    }

    /// <summary>Writes what was used since the last flush; a failed write keeps it for the next.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var rows = _usage.Drain();
        if (rows.Count == 0)
        {
            return;
        }

        try
        {
            await using var command = dataSource.CreateCommand("""
                INSERT INTO usage_ledger (tenant_id, api_key_id, job_id, run, model_alias, provider_model, input_tokens, output_tokens, cost, created_at, requests, source)
                SELECT tenant_id, api_key_id, NULL, 1, alias, deployment, input_tokens, output_tokens, cost, minute, requests, 'gateway'
                FROM unnest($1::timestamptz[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::int[], $7::bigint[], $8::bigint[], $9::numeric[])
                     AS u (minute, tenant_id, api_key_id, alias, deployment, requests, input_tokens, output_tokens, cost)
                """);
            command.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => DateTimeOffset.FromUnixTimeSeconds(r.Key.Minute * 60)).ToArray() });
            command.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Key.TenantId).ToArray() });
            command.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Key.KeyId).ToArray() });
            command.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Key.Alias).ToArray() });
            command.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Key.Deployment).ToArray() });
            command.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Value.Requests).ToArray() });
            command.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Value.InputTokens).ToArray() });
            command.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Value.OutputTokens).ToArray() });
            command.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Value.Cost).ToArray() });
            await command.ExecuteNonQueryAsync(cancellationToken);
            telemetry.UsageRowsWritten(rows.Count);
        }
        catch (Exception exception) when (exception is NpgsqlException or TimeoutException or OperationCanceledException)
        {
            foreach (var (key, cell) in rows)
            {
                _usage.Update(key, cell, static (into, from) =>
                {
                    into.Requests += from.Requests;
                    into.InputTokens += from.InputTokens;
                    into.OutputTokens += from.OutputTokens;
                    into.Cost += from.Cost;
                });
            }

            LogFlushFailed(logger, rows.Count, exception);
        }
    }

    [LoggerMessage(2400, LogLevel.Warning, "Could not write {Count} gateway usage row(s) to the ledger; they are kept for the next try.")]
    private static partial void LogFlushFailed(ILogger logger, int count, Exception exception);

    private readonly record struct UsageKey(long Minute, string TenantId, Guid KeyId, string Alias, string Deployment);

    private sealed class UsageCell : Accumulator<UsageKey, UsageCell>.Cell
    {
        public int Requests;
        public long InputTokens;
        public long OutputTokens;
        public decimal Cost;

        public override bool IsEmpty => Requests == 0;

        public override UsageCell Take()
        {
            var taken = new UsageCell { Requests = Requests, InputTokens = InputTokens, OutputTokens = OutputTokens, Cost = Cost };
            (Requests, InputTokens, OutputTokens, Cost) = (0, 0, 0, 0);
            return taken;
        }
    }
}
