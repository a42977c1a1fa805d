namespace AspireLlm.AppHost.LocalProcesses;

/// <summary>A server (Redis or Postgres) run as a local process, with a connection string of its own.</summary>
internal sealed class LocalServerResource(string name, ProcessLaunch launch, string connectionString)
    : ExecutableResource(name, launch.Command, launch.WorkingDirectory), IResourceWithConnectionString
{
    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create($"{connectionString}");
}

internal static class LocalServerResourceExtensions
{
    /// <summary>
    /// Adds the server on its fixed loopback port (no proxy: the port is already free and ours), with the
    /// health check that gates everything that waits for it. Local servers never appear in a manifest.
    /// </summary>
    public static IResourceBuilder<LocalServerResource> AddLocalServer(
        this IDistributedApplicationBuilder builder, string name, ProcessLaunch launch, int port, string connectionString, string healthCheckKey) =>
        builder.AddResource(new LocalServerResource(name, launch, connectionString))
            .WithArgs([.. launch.Args])
            .WithEndpoint(port: port, targetPort: port, scheme: "tcp", name: "tcp", isProxied: false)
            .WithHealthCheck(healthCheckKey)
            .ExcludeFromManifest();
}
