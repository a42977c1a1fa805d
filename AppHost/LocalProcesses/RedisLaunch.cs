namespace AspireLlm.AppHost.LocalProcesses;

/// <summary>
/// A Redis-protocol server on loopback: <c>redis-server</c> when it is installed, otherwise Garnet
/// (Microsoft Research's Redis-compatible server, which the AppHost downloads as a NuGet package at
/// build time) so that a new machine needs no manual step. Garnet runs with
/// <c>--lua-transaction-mode</c>: without it its Lua scripts are not atomic, and our rate limits and
/// budgets rely on atomic scripts.
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

        return new ProcessLaunch("dotnet",
        [
            "exec", garnetServerDll, "--bind", "127.0.0.1", "--port", port.ToString(),
            "--auth", "Password", "--password", password, "--lua", "--lua-transaction-mode",
            "--checkpointdir", dataDirectory, "--logger-level", "Warning",
        ], dataDirectory);
    }

    public static string ConnectionString(int port, string password) => $"127.0.0.1:{port},password={password}";
}
