using Npgsql;

namespace AspireLlm.Orchestration.Storage;

/// <summary>Data-source settings both services share, whatever connection string Aspire hands them.</summary>
public static class DatabaseTuning
{
    /// <summary>
    /// Npgsql's automatic preparation: statements run over and over (ours and Hangfire's, which sends
    /// unprepared SQL through Dapper) are parsed and planned once per connection instead of on every
    /// call. Measured with bench/run-jobs-bench.sh; Postgres CPU per job is the first limit on throughput.
    /// </summary>
    public static void Configure(NpgsqlDataSourceBuilder builder)
    {
        builder.ConnectionStringBuilder.MaxAutoPrepare = 128;
        builder.ConnectionStringBuilder.AutoPrepareMinUsages = 2;

        // Hangfire opens and closes a pooled connection for nearly every operation (about 30 per job);
        // resetting session state on each return cost Postgres three statements each time. Nothing leaves
        // session state behind: Hangfire's locks are advisory locks that AdvisoryLock releases before its
        // connection goes back, or whose connection it closes for good, so skip it.
        builder.ConnectionStringBuilder.NoResetOnClose = true;

        // Polling (Hangfire's fetches and heartbeats, the dispatcher's sweeps, cancellation checks) runs
        // outside any span, and each poll used to be a trace of its own: thousands in a few idle minutes
        // buried the real requests in the Aspire dashboard. A command is traced only as part of real
        // work, i.e. inside a request's or a job's span; connection opens are never traced on their own.
        builder.ConfigureTracing(tracing => tracing
            .ConfigureCommandFilter(_ => System.Diagnostics.Activity.Current is not null)
            .ConfigureBatchFilter(_ => System.Diagnostics.Activity.Current is not null)
            .EnablePhysicalOpenTracing(false));
    }
}
