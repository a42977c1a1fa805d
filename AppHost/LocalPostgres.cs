using Microsoft.Extensions.DependencyInjection;
using System.Diagnostics;
using System.Security.Cryptography;

namespace AspireLlm.AppHost;

/// <summary>A PostgreSQL server run as a local process; its connection string names one database.</summary>
internal sealed class LocalPostgresResource(string name, string command, string workingDirectory, string connectionString)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create($"{connectionString}");
}

internal static class LocalPostgresExtensions
{
    /// <summary>
    /// Initialises a throw-away cluster with the installed PostgreSQL binaries and runs it on a free
    /// loopback port. Postgres refuses to run as root, so as root the cluster belongs to the
    /// <c>postgres</c> user and the server is started through <c>setpriv</c>, which execs in place so
    /// that Aspire still manages the postgres process itself. The database is created by the
    /// migrations step (DbUp's EnsureDatabase), as it would be on a managed server.
    /// </summary>
    public static IResourceBuilder<LocalPostgresResource> AddLocalPostgres(
        this IDistributedApplicationBuilder builder, string name, string databaseName, LocalRunDirectory run)
    {
        var binaries = FindBinaries();
        var port = LocalRunDirectory.FreePort();
        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        var clusterDirectory = run.Subdirectory(name);
        var dataDirectory = Path.Combine(clusterDirectory, "data");
        var asRoot = Environment.UserName == "root";

        InitCluster(binaries, clusterDirectory, dataDirectory, password, asRoot);

        var connectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Password={password};Database={databaseName}";
        string[] serverArgs =
        [
            "-D", dataDirectory, "-p", port.ToString(), "-c", "listen_addresses=127.0.0.1",
            "-c", $"unix_socket_directories={clusterDirectory}",
            // Throw-away development data: durability costs time and buys nothing here.
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
            "-c", "max_connections=300",
        ];
        var postgres = Path.Combine(binaries, "postgres");
        var resource = asRoot
            ? new LocalPostgresResource(name, "setpriv", clusterDirectory, connectionString)
            : new LocalPostgresResource(name, postgres, clusterDirectory, connectionString);
        string[] args = asRoot
            ? ["--reuid=postgres", "--regid=postgres", "--init-groups", postgres, .. serverArgs]
            : serverArgs;

        var healthCheckKey = $"{name}-postgres";
        var maintenance = $"Host=127.0.0.1;Port={port};Username=postgres;Password={password};Database=postgres";
        builder.Services.AddHealthChecks().AddNpgSql(maintenance, name: healthCheckKey);

        return builder.AddResource(resource)
            .WithArgs(args)
            .WithEndpoint(port: port, targetPort: port, scheme: "tcp", name: "tcp", isProxied: false)
            .WithHealthCheck(healthCheckKey)
            .ExcludeFromManifest();
    }

    private static void InitCluster(string binaries, string clusterDirectory, string dataDirectory, string password, bool asRoot)
    {
        var passwordFile = Path.Combine(clusterDirectory, "pwfile");
        File.WriteAllText(passwordFile, password);
        string[] initdb =
        [
            Path.Combine(binaries, "initdb"), "-D", dataDirectory, "-U", "postgres", $"--pwfile={passwordFile}",
            "--auth=scram-sha-256", "-E", "UTF8", "--no-sync", "--no-instructions",
        ];

        if (asRoot)
        {
            Run("chown", "-R", "postgres:postgres", clusterDirectory);
            Run("runuser", ["-u", "postgres", "--", .. initdb]);
        }
        else
        {
            Run(initdb[0], initdb[1..]);
        }

        File.Delete(passwordFile);
    }

    private static string FindBinaries()
    {
        var installed = Directory.Exists("/usr/lib/postgresql")
            ? Directory.EnumerateDirectories("/usr/lib/postgresql")
                .Select(directory => Path.Combine(directory, "bin"))
                .Where(bin => File.Exists(Path.Combine(bin, "postgres")))
                .OrderByDescending(bin => int.TryParse(Path.GetFileName(Path.GetDirectoryName(bin)), out var v) ? v : 0)
                .FirstOrDefault()
            : null;
        var onPath = LocalRedisExtensions.FindOnPath("postgres") is { } path ? Path.GetDirectoryName(path) : null;

        return installed ?? onPath ?? throw new InvalidOperationException(
            "No container runtime and no PostgreSQL server binaries were found: install Docker, or PostgreSQL " +
            "(apt-get install -y postgresql), or set AspireLlm:Infrastructure.");
    }

    private static void Run(string command, params string[] args)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {command}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{command} failed ({process.ExitCode}): {stderr.Result}{stdout.Result}");
        }
    }
}
