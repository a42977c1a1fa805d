using Microsoft.Extensions.DependencyInjection;
using System.Reflection;
using System.Security.Cryptography;

namespace AspireLlm.AppHost;

/// <summary>A Redis-protocol server run as a local process, with a connection string of its own.</summary>
internal sealed class LocalRedisResource(string name, string command, string workingDirectory, string connectionString)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    internal string ConnectionString => connectionString;

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create($"{ConnectionString}");
}

internal static class LocalRedisExtensions
{
    /// <summary>
    /// Runs <c>redis-server</c> when it is installed; otherwise Garnet (Microsoft Research's
    /// Redis-compatible server, downloaded as a NuGet package at build time) so that a new machine
    /// needs no manual step. Garnet runs with <c>--lua-transaction-mode</c>: without it its Lua
    /// scripts are not atomic, and our rate limits and budgets rely on atomic scripts.
    /// </summary>
    public static IResourceBuilder<LocalRedisResource> AddLocalRedis(
        this IDistributedApplicationBuilder builder, string name, LocalRunDirectory run)
    {
        var port = LocalRunDirectory.FreePort();
        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        var dataDirectory = run.Subdirectory(name);
        var connectionString = $"127.0.0.1:{port},password={password}";

        var redisServer = FindOnPath("redis-server");
        LocalRedisResource resource;
        string[] args;
        if (redisServer is not null)
        {
            // The password goes in a config file, not on the command line where `ps` shows it.
            var config = Path.Combine(dataDirectory, "redis.conf");
            File.WriteAllLines(config,
            [
                $"port {port}", "bind 127.0.0.1", $"requirepass {password}", "save \"\"",
                "appendonly no", $"dir {dataDirectory}", "protected-mode yes",
            ]);
            resource = new LocalRedisResource(name, redisServer, dataDirectory, connectionString);
            args = [config];
        }
        else
        {
            resource = new LocalRedisResource(name, "dotnet", dataDirectory, connectionString);
            args =
            [
                "exec", GarnetServerDll(), "--bind", "127.0.0.1", "--port", port.ToString(),
                "--auth", "Password", "--password", password, "--lua", "--lua-transaction-mode",
                "--checkpointdir", dataDirectory, "--logger-level", "Warning",
            ];
        }

        var healthCheckKey = $"{name}-redis";
        builder.Services.AddHealthChecks().AddRedis(connectionString, healthCheckKey);

        return builder.AddResource(resource)
            .WithArgs(args)
            .WithEndpoint(port: port, targetPort: port, scheme: "tcp", name: "tcp", isProxied: false)
            .WithHealthCheck(healthCheckKey)
            .ExcludeFromManifest();
    }

    private static string GarnetServerDll()
    {
        var path = typeof(LocalRedisExtensions).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "GarnetServerDll").Value!;
        return File.Exists(path)
            ? path
            : throw new InvalidOperationException(
                $"Neither redis-server nor Garnet ({path}) was found: run 'dotnet restore' or install redis-server.");
    }

    internal static string? FindOnPath(string command) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, command))
            .FirstOrDefault(File.Exists);
}
