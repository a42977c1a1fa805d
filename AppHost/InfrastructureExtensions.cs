using AspireLlm.AppHost.LocalProcesses;
using AspireLlm.ServiceDefaults;

namespace AspireLlm.AppHost;

/// <summary>The two stateful dependencies every service references by connection string.</summary>
/// <summary>The stateful dependencies every service references by connection string (Vectors: the vector index, Redis 8 or Garnet).</summary>
internal sealed record Infrastructure(
    IResourceBuilder<IResourceWithConnectionString> Redis,
    IResourceBuilder<IResourceWithConnectionString> Database,
    IResourceBuilder<IResourceWithConnectionString> Vectors);

internal static class InfrastructureExtensions
{
    public const string ModeSetting = "AspireLlm:Infrastructure";

    /// <summary>
    /// Adds Redis and Postgres as containers or as local processes, chosen by
    /// <c>AspireLlm:Infrastructure</c> (<c>containers</c>, <c>local</c>, <c>auto</c>). Publish mode
    /// always describes containers: a deployment manifest never names a path on this machine.
    /// </summary>
    public static Infrastructure AddInfrastructure(this IDistributedApplicationBuilder builder)
    {
        var useContainers = builder.ExecutionContext.IsPublishMode || ResolveMode(builder) switch
        {
            "containers" => true,
            "local" => false,
            _ => ContainerRuntime.IsAvailable(),
        };

        return useContainers ? AddContainers(builder) : AddLocalProcesses(builder);
    }

    private static string ResolveMode(IDistributedApplicationBuilder builder)
    {
        var mode = (builder.Configuration[ModeSetting] ?? "auto").Trim().ToLowerInvariant();
        return mode is "containers" or "local" or "auto"
            ? mode
            : throw new InvalidOperationException($"{ModeSetting} must be 'containers', 'local' or 'auto' (was '{mode}').");
    }

    private static Infrastructure AddContainers(IDistributedApplicationBuilder builder)
    {
        var redis = builder.AddRedis(ResourceNames.Redis);
        var database = builder.AddPostgres(ResourceNames.Postgres)
            .WithDataVolume()
            .AddDatabase(ResourceNames.Database);

        // Redis 8 (Aspire's image) serves vector sets itself.
        return new Infrastructure(redis, database, redis);
    }

    private static Infrastructure AddLocalProcesses(IDistributedApplicationBuilder builder)
    {
        var runDirectory = LocalRunDirectory.Create();
        var redis = builder.AddLocalRedis(ResourceNames.Redis, runDirectory);
        var database = builder.AddLocalPostgres(ResourceNames.Postgres, ResourceNames.Database, runDirectory);
        return new Infrastructure(redis, database, builder.AddLocalVectors(ResourceNames.Vectors, redis, runDirectory));
    }
}
