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
        // LISTEN/NOTIFY wakes a waiting worker at once instead of on the next poll.
        EnableLongPolling = true,
        QueuePollInterval = TimeSpan.FromSeconds(1),
    };

    private sealed class DataSourceConnectionFactory(NpgsqlDataSource dataSource) : IConnectionFactory
    {
        public NpgsqlConnection GetOrCreateConnection() => dataSource.CreateConnection();
    }
}
