using Microsoft.Extensions.DependencyInjection;

namespace AspireLlm.AppHost.LocalProcesses;

/// <summary>A PostgreSQL server run as a local process; its connection string names one database.</summary>
internal sealed class LocalPostgresResource(string name, ProcessLaunch launch, string connectionString)
    : ExecutableResource(name, launch.Command, launch.WorkingDirectory), IResourceWithConnectionString
{
    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create($"{connectionString}");
}

internal static class LocalPostgresExtensions
{
    /// <summary>
    /// Runs a throw-away cluster on a free loopback port. The database itself is created by the
    /// migrations step (DbUp's EnsureDatabase), as it would be on a managed server.
    /// </summary>
    public static IResourceBuilder<LocalPostgresResource> AddLocalPostgres(
        this IDistributedApplicationBuilder builder, string name, string databaseName, LocalRunDirectory run)
    {
        var port = LocalRunDirectory.FreePort();
        var password = ProcessLaunch.NewPassword();
        var launch = PostgresCluster.Init(run.Subdirectory(name), port, password);

        var healthCheckKey = $"{name}-postgres";
        builder.Services.AddHealthChecks().AddNpgSql(PostgresCluster.ConnectionString(port, password, "postgres"), name: healthCheckKey);

        return builder.AddResource(new LocalPostgresResource(name, launch, PostgresCluster.ConnectionString(port, password, databaseName)))
            .WithArgs([.. launch.Args])
            .WithEndpoint(port: port, targetPort: port, scheme: "tcp", name: "tcp", isProxied: false)
            .WithHealthCheck(healthCheckKey)
            .ExcludeFromManifest();
    }
}
