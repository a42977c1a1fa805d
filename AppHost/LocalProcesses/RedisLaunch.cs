namespace AspireLlm.AppHost.LocalProcesses;

/// <summary>
/// A Redis-protocol server on loopback: <c>redis-server</c> when it is installed, otherwise Garnet
/// (Microsoft Research's Redis-compatible server, which the AppHost downloads as a NuGet package at
/// build time) so that a new machine needs no manual step. Garnet runs with
/// <c>--lua-transaction-mode</c>: without it its Lua scripts are not atomic, and our rate limits and
/// budgets rely on atomic scripts. Garnet also serves vector sets (<c>--enable-vector-set-preview</c>),
/// which Debian's redis-server 7 does not: <see cref="CreateVectorStore"/> starts it for the vector index.
/// </summary>
public static class RedisLaunch
{
    public static ProcessLaunch Create(string dataDirectory, int port, string password, string? garnetServerDll, bool preferGarnet = false)
    {
        var redisServer = preferGarnet ? null : ProcessLaunch.FindOnPath("redis-server");
        if (redisServer is not null)
        {
            // The password goes in a config file, not on the command line where `ps` shows it.
            var config = Path.Combine(dataDirectory, "redis.conf");
            File.WriteAllLines(config,
            [
                $"port {port}", "bind 127.0.0.1", $"requirepass {password}", "save \"\"",
                "appendonly no", $"dir {dataDirectory}", "protected-mode yes",
            ]);
            return new ProcessLaunch(redisServer, [config], dataDirectory);
        }

        if (garnetServerDll is null || !File.Exists(garnetServerDll))
        {
            throw new InvalidOperationException(
                $"Neither redis-server nor Garnet ({garnetServerDll}) was found: run 'dotnet restore' or install redis-server.");
        }

        return Garnet(dataDirectory, port, password, garnetServerDll);
    }

    /// <summary>A Redis-protocol server with vector sets (VADD/VSIM): Garnet, whatever else is installed.</summary>
    public static ProcessLaunch CreateVectorStore(string dataDirectory, int port, string password, string? garnetServerDll) =>
        garnetServerDll is not null && File.Exists(garnetServerDll)
            ? Garnet(dataDirectory, port, password, garnetServerDll)
            : throw new InvalidOperationException($"Garnet ({garnetServerDll}) was not found: run 'dotnet restore'.");

    /// <summary>Whether <see cref="Create"/> would start Garnet (which then serves vector sets itself).</summary>
    public static bool WouldRunGarnet(bool preferGarnet) => preferGarnet || ProcessLaunch.FindOnPath("redis-server") is null;

    private static ProcessLaunch Garnet(string dataDirectory, int port, string password, string garnetServerDll) =>
        new("dotnet",
        [
            "exec", garnetServerDll, "--bind", "127.0.0.1", "--port", port.ToString(),
            "--auth", "Password", "--password", password, "--lua", "--lua-transaction-mode", "--enable-vector-set-preview",
            "--checkpointdir", dataDirectory, "--logger-level", "Warning",
        ], dataDirectory);

    public static string ConnectionString(int port, string password) => $"127.0.0.1:{port},password={password}";
}
