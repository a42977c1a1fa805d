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

    public string Directory { get; private set; } = "";

    public string DatabaseConnectionString { get; private set; } = "";

    public string RedisConnectionString { get; private set; } = "";

    public async Task StartAsync()
    {
        Directory = CreateRunDirectory();

        var postgresPort = ServerProcess.FreePort();
        var postgresPassword = ProcessLaunch.NewPassword();
        var postgresDirectory = System.IO.Directory.CreateDirectory(Path.Combine(Directory, "postgres")).FullName;
        _servers.Add(ServerProcess.Start(PostgresCluster.Init(postgresDirectory, postgresPort, postgresPassword)));
        DatabaseConnectionString = PostgresCluster.ConnectionString(postgresPort, postgresPassword, "llmdb");

        var (redis, redisConnectionString) = ServerProcess.StartRedis(
            System.IO.Directory.CreateDirectory(Path.Combine(Directory, "redis")).FullName, preferGarnet: false);
        _servers.Add(redis);
        RedisConnectionString = redisConnectionString;

        await WaitForPostgresAsync(PostgresCluster.ConnectionString(postgresPort, postgresPassword, "postgres"));
        DatabaseMigrator.Migrate(DatabaseConnectionString, TextWriter.Null);
    }

    public ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
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
