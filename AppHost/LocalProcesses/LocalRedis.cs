using System.Reflection;
using Microsoft.Extensions.DependencyInjection;

namespace AspireLlm.AppHost.LocalProcesses;

internal static class LocalRedisExtensions
{
    public const string ServerSetting = "AspireLlm:LocalRedis";

    /// <summary>Runs redis-server, or Garnet where it is missing or <c>AspireLlm:LocalRedis=garnet</c>.</summary>
    public static IResourceBuilder<LocalServerResource> AddLocalRedis(
        this IDistributedApplicationBuilder builder, string name, LocalRunDirectory run)
    {
        var port = LocalRunDirectory.FreePort();
        var password = ProcessLaunch.NewPassword();
        var preferGarnet = string.Equals(builder.Configuration[ServerSetting], "garnet", StringComparison.OrdinalIgnoreCase);
        var launch = RedisLaunch.Create(run.Subdirectory(name), port, password, GarnetServerDll, preferGarnet);
        var connectionString = RedisLaunch.ConnectionString(port, password);

        var healthCheckKey = $"{name}-redis";
        builder.Services.AddHealthChecks().AddRedis(connectionString, healthCheckKey);
        return builder.AddLocalServer(name, launch, port, connectionString, healthCheckKey);
    }

    /// <summary>
    /// The vector index's server: the local Redis itself when that is Garnet, otherwise a Garnet of its own
    /// beside redis-server 7 (which has no vector sets).
    /// </summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddLocalVectors(
        this IDistributedApplicationBuilder builder, string name, IResourceBuilder<LocalServerResource> redis, LocalRunDirectory run)
    {
        if (RedisLaunch.WouldRunGarnet(string.Equals(builder.Configuration[ServerSetting], "garnet", StringComparison.OrdinalIgnoreCase)))
        {
            return redis;
        }

        var port = LocalRunDirectory.FreePort();
        var password = ProcessLaunch.NewPassword();
        var connectionString = RedisLaunch.ConnectionString(port, password);
        builder.Services.AddHealthChecks().AddRedis(connectionString, $"{name}-redis");
        return builder.AddLocalServer(name, RedisLaunch.CreateVectorStore(run.Subdirectory(name), port, password, GarnetServerDll), port, connectionString, $"{name}-redis");
    }

    /// <summary>Where the build put the Garnet server (see AppHost.csproj).</summary>
    private static string? GarnetServerDll =>
        typeof(LocalRedisExtensions).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .SingleOrDefault(a => a.Key == "GarnetServerDll")?.Value;
}
