using AspireLlm.Orchestration.Storage;
using Hangfire.PostgreSql;
using Npgsql;

namespace AspireLlm.Orchestration.Jobs;

/// <summary>Hangfire on the same Postgres database as our tables, through Aspire's data source.</summary>
public static class HangfireStorage
{
    /// <param name="invisibilityTimeout">
    /// How long a fetched job stays invisible to other workers without a heartbeat. With the sliding
    /// timeout a live worker keeps extending it, so this is the bound on how long a job held by a
    /// SIGKILLed worker waits before another worker takes it.
    /// </param>
    public static PostgreSqlStorage Create(NpgsqlDataSource dataSource, TimeSpan invisibilityTimeout) =>
        new GatedPostgreSqlStorage(new DataSourceConnectionFactory(dataSource), Options(invisibilityTimeout));

    public static PostgreSqlStorageOptions Options(TimeSpan invisibilityTimeout) => new()
    {
        SchemaName = DatabaseMigrator.HangfireSchema,
        // The one-shot migrations step installs the schema; replicas never race to do it.
        PrepareSchemaIfNecessary = false,
        UseSlidingInvisibilityTimeout = true,
        InvisibilityTimeout = invisibilityTimeout,
        // No long polling: Hangfire.PostgreSql's opens a LISTEN connection for every fetch and cancels
        // its wait afterwards, which breaks that connection, so each job cost a new Postgres backend
        // and its SCRAM handshake (most of the Worker's and Postgres's CPU per job in bench/JobsBench).
        // Jobs are put on the queues by this process's JobDispatcher, and an enqueue in-process wakes
        // a waiting fetcher at once; the short poll covers a worker whose dispatcher lost the race.
        EnableLongPolling = false,
        QueuePollInterval = TimeSpan.FromMilliseconds(250),
    };

    private sealed class DataSourceConnectionFactory(NpgsqlDataSource dataSource) : IConnectionFactory
    {
        public NpgsqlConnection GetOrCreateConnection() => dataSource.CreateConnection();
    }
}
