using System.Diagnostics;
using AspireLlm.Orchestration.Storage;
using AspireLlm.Tests.Shared;
using Npgsql;

namespace AspireLlm.ServiceTests.Deploy;

/// <summary>
/// <c>Worker migrate --wait</c>, the Kubernetes init container that holds the Api and Worker pods until
/// the migrations Job has run: it waits while the database is missing or behind, returns 0 once the
/// schema is current, and changes nothing itself.
/// </summary>
[Collection(RollingCollection.Name)]
public sealed class MigrationWaitTests(LocalInfrastructure infrastructure)
{
    [Fact]
    public async Task It_waits_for_a_database_that_is_not_migrated_and_returns_once_the_migrations_ran()
    {
        var database = "wait_" + Guid.NewGuid().ToString("N")[..12];
        var connectionString = new NpgsqlConnectionStringBuilder(infrastructure.DatabaseConnectionString) { Database = database }.ConnectionString;

        using var wait = StartWait(connectionString);
        await Task.Delay(TimeSpan.FromSeconds(4));
        Assert.False(wait.HasExited, "it returned before the database existed");

        // The database exists but is empty: still waiting, and it created nothing.
        await using (var admin = NpgsqlDataSource.Create(infrastructure.DatabaseConnectionString))
        {
            await admin.CreateCommand($"CREATE DATABASE {database}").ExecuteNonQueryAsync();
        }

        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.False(wait.HasExited, "it returned before the schema was applied");
        Assert.False(DatabaseMigrator.IsCurrent(connectionString));

        DatabaseMigrator.Migrate(connectionString, TextWriter.Null);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await wait.WaitForExitAsync(timeout.Token);
        Assert.Equal(0, wait.ExitCode);
    }

    private static Process StartWait(string connectionString)
    {
        var configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        var root = AppContext.BaseDirectory[..AppContext.BaseDirectory.IndexOf("/tests/", StringComparison.Ordinal)];
        var start = new ProcessStartInfo("dotnet", [Path.Combine(root, "Worker", "bin", configuration, "net10.0", "AspireLlm.Worker.dll"), "migrate", "--wait"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["ConnectionStrings__llmdb"] = connectionString;
        var process = Process.Start(start)!;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }
}
