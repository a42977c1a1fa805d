using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AspireLlm.AppHost.LocalProcesses;
using AspireLlm.Orchestration.Storage;
using Npgsql;

namespace AspireLlm.Tests.Shared;

/// <summary>
/// Real Postgres and Redis for service tests, started the same way the AppHost starts them on a
/// machine without containers (the launch code is linked from AppHost/LocalProcesses), with the
/// schema migrated. One instance serves a whole test collection.
/// </summary>
public sealed class LocalInfrastructure : IAsyncLifetime
{
    private readonly List<Process> _processes = [];
    private string _directory = "";

    public string DatabaseConnectionString { get; private set; } = "";

    public string RedisConnectionString { get; private set; } = "";

    /// <summary>Set to run Garnet instead of redis-server, to prove what we use works on both.</summary>
    public bool PreferGarnet { get; init; }

    public async Task InitializeAsync()
    {
        var root = Path.Combine(Path.GetTempPath(), "aspirellm-tests");
        Directory.CreateDirectory(root);
        PostgresCluster.AllowTraversal(root);
        _directory = Path.Combine(root, $"{Environment.ProcessId}-{Guid.NewGuid():N}"[..24]);
        Directory.CreateDirectory(_directory);
        PostgresCluster.AllowTraversal(_directory);

        var postgresPort = FreePort();
        var postgresPassword = ProcessLaunch.NewPassword();
        var postgresDirectory = Directory.CreateDirectory(Path.Combine(_directory, "postgres")).FullName;
        Start(PostgresCluster.Init(postgresDirectory, postgresPort, postgresPassword));
        DatabaseConnectionString = PostgresCluster.ConnectionString(postgresPort, postgresPassword, "llmdb");

        var redisPort = FreePort();
        var redisPassword = ProcessLaunch.NewPassword();
        var redisDirectory = Directory.CreateDirectory(Path.Combine(_directory, "redis")).FullName;
        Start(RedisLaunch.Create(redisDirectory, redisPort, redisPassword, GarnetServerDll(), PreferGarnet));
        RedisConnectionString = RedisLaunch.ConnectionString(redisPort, redisPassword);

        await WaitForPostgresAsync(PostgresCluster.ConnectionString(postgresPort, postgresPassword, "postgres"));
        await WaitForPortAsync(redisPort);
        DatabaseMigrator.Migrate(DatabaseConnectionString, TextWriter.Null);
    }

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        foreach (var process in _processes)
        {
            try
            {
                // SIGINT is Postgres's fast shutdown; it ends its backends too.
                using var kill = Process.Start("kill", ["-INT", process.Id.ToString()]);
                if (!process.WaitForExit(TimeSpan.FromSeconds(10)))
                {
                    process.Kill(entireProcessTree: true);
                }
            }
            catch (InvalidOperationException)
            {
            }

            process.Dispose();
        }

        await Task.Yield();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>A free loopback port, found by letting the OS choose one.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Start(ProcessLaunch launch)
    {
        var start = new ProcessStartInfo(launch.Command)
        {
            WorkingDirectory = launch.WorkingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in launch.Args)
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add(process);
    }

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

    private static async Task WaitForPortAsync(int port)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    private static string GarnetServerDll()
    {
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        return Path.Combine(packages, "garnet-server", "2.2.8", "tools", "net10.0", "any", "GarnetServer.dll");
    }
}
