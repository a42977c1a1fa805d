namespace AspireLlm.AppHost.LocalProcesses;

/// <summary>
/// A throw-away PostgreSQL cluster from the installed server binaries, listening on loopback only.
/// Postgres refuses to run as root, so as root the cluster belongs to the <c>postgres</c> user: initdb
/// runs through <c>runuser</c>, and the server through <c>setpriv</c>, which execs in place so that
/// whoever started it (Aspire, or a test) still manages the postgres process itself.
/// </summary>
public static class PostgresCluster
{
    public static bool AsRoot => Environment.UserName == "root";

    /// <summary>Creates the cluster in <c>{clusterDirectory}/data</c> and returns how to start its server.</summary>
    public static ProcessLaunch Init(string clusterDirectory, int port, string password, params string[] extraServerArgs)
    {
        var binaries = FindBinaries();
        var dataDirectory = Path.Combine(clusterDirectory, "data");
        var passwordFile = Path.Combine(clusterDirectory, "pwfile");
        File.WriteAllText(passwordFile, password);
        string[] initdb =
        [
            Path.Combine(binaries, "initdb"), "-D", dataDirectory, "-U", "postgres", $"--pwfile={passwordFile}",
            "--auth=scram-sha-256", "-E", "UTF8", "--no-sync", "--no-instructions",
        ];

        if (AsRoot)
        {
            ProcessLaunch.Run("chown", "-R", "postgres:postgres", clusterDirectory);
            ProcessLaunch.Run("runuser", ["-u", "postgres", "--", .. initdb]);
        }
        else
        {
            ProcessLaunch.Run(initdb[0], initdb[1..]);
        }

        File.Delete(passwordFile);

        var postgres = Path.Combine(binaries, "postgres");
        string[] serverArgs =
        [
            "-D", dataDirectory, "-p", port.ToString(), "-c", "listen_addresses=127.0.0.1",
            "-c", $"unix_socket_directories={clusterDirectory}",
            // Throw-away data: durability costs time and buys nothing here.
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
            "-c", "max_connections=300",
            .. extraServerArgs,
        ];
        return AsRoot
            ? new ProcessLaunch("setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", postgres, .. serverArgs], clusterDirectory)
            : new ProcessLaunch(postgres, serverArgs, clusterDirectory);
    }

    public static string ConnectionString(int port, string password, string database) =>
        $"Host=127.0.0.1;Port={port};Username=postgres;Password={password};Database={database}";

    /// <summary>Makes a directory traversable by the postgres user when running as root.</summary>
    public static void AllowTraversal(string directory)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }
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
        var onPath = ProcessLaunch.FindOnPath("postgres") is { } path ? Path.GetDirectoryName(path) : null;

        return installed ?? onPath ?? throw new InvalidOperationException(
            "No container runtime and no PostgreSQL server binaries were found: install Docker, or PostgreSQL " +
            "(apt-get install -y postgresql), or set AspireLlm:Infrastructure.");
    }
}
