using AspireLlm.AppHost.LocalProcesses;
using AspireLlm.Orchestration.Storage;
using Npgsql;

namespace AspireLlm.Tests.Shared;

/// <summary>
/// Real Postgres and Redis for service tests, started the same way the AppHost starts them on a
/// machine without containers (the launch code is linked from AppHost/LocalProcesses), with the
/// schema migrated. One instance serves a whole test collection.
/// </summary>
public sealed partial class LocalInfrastructure : IAsyncDisposable
{
    private readonly List<ServerProcess> _servers = [];
    private AppHost.LocalProcesses.ProcessLaunch? _postgresLaunch;
    private ServerProcess? _postgres;
    private string _maintenanceConnectionString = "";

    public string Directory { get; private set; } = "";

    public string DatabaseConnectionString { get; private set; } = "";

    public string RedisConnectionString { get; private set; } = "";

    /// <summary>A Redis-protocol server with vector sets (Garnet), once <see cref="StartVectorStore"/> has run.</summary>
    public string? VectorConnectionString { get; private set; }

    /// <summary>Extra <c>postgres</c> arguments (diagnostics such as pg_stat_statements).</summary>
    public string[] ExtraPostgresArgs { get; init; } = [];

    public async Task StartAsync()
    {
        Directory = CreateRunDirectory();

        var postgresPort = ServerProcess.FreePort();
        var postgresPassword = ProcessLaunch.NewPassword();
        var postgresDirectory = System.IO.Directory.CreateDirectory(Path.Combine(Directory, "postgres")).FullName;
        _postgresLaunch = PostgresCluster.Init(postgresDirectory, postgresPort, postgresPassword, ExtraPostgresArgs);
        _postgres = ServerProcess.Start(_postgresLaunch);
        DatabaseConnectionString = PostgresCluster.ConnectionString(postgresPort, postgresPassword, "llmdb");
        _maintenanceConnectionString = PostgresCluster.ConnectionString(postgresPort, postgresPassword, "postgres");

        var (redis, redisConnectionString) = ServerProcess.StartRedis(
            System.IO.Directory.CreateDirectory(Path.Combine(Directory, "redis")).FullName, preferGarnet: false);
        _servers.Add(redis);
        RedisConnectionString = redisConnectionString;

        await WaitForPostgresAsync(_maintenanceConnectionString);
        DatabaseMigrator.Migrate(DatabaseConnectionString, TextWriter.Null);
    }

    /// <summary>
    /// Starts Garnet with vector sets beside the Redis (Debian's redis-server 7 has none), as the AppHost
    /// does on a machine without containers; returns its connection string. Started once.
    /// </summary>
    public string StartVectorStore()
    {
        lock (_servers)
        {
            if (VectorConnectionString is null)
            {
                var (server, connectionString) = ServerProcess.StartVectorStore(
                    System.IO.Directory.CreateDirectory(Path.Combine(Directory, "vectors")).FullName);
                _servers.Add(server);
                VectorConnectionString = connectionString;
            }

            return VectorConnectionString;
        }
    }

    public ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        _postgres?.Dispose();
        foreach (var server in _servers)
        {
            server.Dispose();
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Stops Postgres (fast shutdown: connections are cut), as an outage would.</summary>
    public void StopPostgres()
    {
        _postgres?.Dispose();
        _postgres = null;
    }

    /// <summary>Starts Postgres again on the same port and data, and waits until it accepts connections.</summary>
    public async Task StartPostgresAsync()
    {
        _postgres = ServerProcess.Start(_postgresLaunch!);
        await WaitForPostgresAsync(_maintenanceConnectionString);
    }

    /// <summary>A per-run directory the postgres user can reach when the tests run as root.</summary>
    public static string CreateRunDirectory()
    {
        var root = Path.Combine(Path.GetTempPath(), "aspirellm-tests");
        System.IO.Directory.CreateDirectory(root);
        PostgresCluster.AllowTraversal(root);
        var directory = Path.Combine(root, $"{Environment.ProcessId}-{Guid.NewGuid():N}"[..24]);
        System.IO.Directory.CreateDirectory(directory);
        PostgresCluster.AllowTraversal(directory);
        return directory;
    }

    public static int FreePort() => ServerProcess.FreePort();

    private static async Task WaitForPostgresAsync(string connectionString)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync();
                return;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }
}
