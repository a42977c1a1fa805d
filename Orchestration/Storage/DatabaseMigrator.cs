using DbUp;
using Hangfire.PostgreSql;
using Npgsql;

namespace AspireLlm.Orchestration.Storage;

/// <summary>
/// Applies the schema once, from the one-shot migrations step, so replicas never race to create
/// tables at start. Our scripts run through DbUp (journaled, one transaction each); Hangfire's schema
/// is installed here too, and the services start Hangfire with schema preparation turned off.
/// </summary>
public static class DatabaseMigrator
{
    public const string HangfireSchema = "hangfire";

    /// <summary>
    /// True when <see cref="Migrate"/> has nothing left to do: every script is journaled and Hangfire's
    /// schema exists. Reads only; throws <see cref="NpgsqlException"/> while the database is unreachable.
    /// </summary>
    public static bool IsCurrent(string connectionString)
    {
        using (var connection = new NpgsqlConnection(connectionString))
        {
            connection.Open();
            using var command = new NpgsqlCommand("SELECT to_regclass('hangfire.schema') IS NOT NULL", connection);
            if (command.ExecuteScalar() is not true)
            {
                return false;
            }
        }

        return !Upgrader(connectionString).LogToNowhere().Build().IsUpgradeRequired();
    }

    public static void Migrate(string connectionString, TextWriter log)
    {
        if (log == TextWriter.Null)
        {
            EnsureDatabase.For.PostgresqlDatabase(connectionString, new DbUp.Engine.Output.NoOpUpgradeLog());
        }
        else
        {
            EnsureDatabase.For.PostgresqlDatabase(connectionString);
        }

        var upgrader = Upgrader(connectionString);
        var upgrade = (log == TextWriter.Null ? upgrader.LogToNowhere() : upgrader.LogToConsole()).Build().PerformUpgrade();

        if (!upgrade.Successful)
        {
            throw new InvalidOperationException($"Migration {upgrade.ErrorScript?.Name} failed.", upgrade.Error);
        }

        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        PostgreSqlObjectsInstaller.Install(connection, HangfireSchema);
        log.WriteLine($"Schema is current ({upgrade.Scripts.Count()} script(s) applied now).");
    }

    private static DbUp.Builder.UpgradeEngineBuilder Upgrader(string connectionString) => DeployChanges.To
        .PostgresqlDatabase(connectionString)
        .WithScriptsEmbeddedInAssembly(typeof(DatabaseMigrator).Assembly,
            name => name.Contains(".Storage.Migrations.", StringComparison.Ordinal))
        .WithTransactionPerScript();
}
