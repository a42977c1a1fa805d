using System.Reflection;
using Microsoft.Extensions.DependencyInjection;

namespace AspireLlm.AppHost.LocalProcesses;

/// <summary>A Redis-protocol server run as a local process, with a connection string of its own.</summary>
internal sealed class LocalRedisResource(string name, ProcessLaunch launch, string connectionString)
    : ExecutableResource(name, launch.Command, launch.WorkingDirectory), IResourceWithConnectionString
{
    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create($"{connectionString}");
}

internal static class LocalRedisExtensions
{
    public const string ServerSetting = "AspireLlm:LocalRedis";

    /// <summary>Runs redis-server, or Garnet where it is missing or <c>AspireLlm:LocalRedis=garnet</c>.</summary>
    public static IResourceBuilder<LocalRedisResource> AddLocalRedis(
        this IDistributedApplicationBuilder builder, string name, LocalRunDirectory run)
    {
        var port = LocalRunDirectory.FreePort();
        var password = ProcessLaunch.NewPassword();
        var preferGarnet = string.Equals(builder.Configuration[ServerSetting], "garnet", StringComparison.OrdinalIgnoreCase);
        var launch = RedisLaunch.Create(run.Subdirectory(name), port, password, GarnetServerDll, preferGarnet);
        var connectionString = RedisLaunch.ConnectionString(port, password);

        var healthCheckKey = $"{name}-redis";
        builder.Services.AddHealthChecks().AddRedis(connectionString, healthCheckKey);

        return builder.AddResource(new LocalRedisResource(name, launch, connectionString))
            .WithArgs([.. launch.Args])
            .WithEndpoint(port: port, targetPort: port, scheme: "tcp", name: "tcp", isProxied: false)
            .WithHealthCheck(healthCheckKey)
            .ExcludeFromManifest();
    }

    /// <summary>Where the build put the Garnet server (see AppHost.csproj).</summary>
    private static string? GarnetServerDll =>
        typeof(LocalRedisExtensions).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .SingleOrDefault(a => a.Key == "GarnetServerDll")?.Value;
}
