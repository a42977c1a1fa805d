using Microsoft.Extensions.DependencyInjection;

namespace AspireLlm.AppHost.LocalProcesses;

internal static class LocalPostgresExtensions
{
    /// <summary>
    /// Runs a throw-away cluster on a free loopback port. The database itself is created by the
    /// migrations step (DbUp's EnsureDatabase), as it would be on a managed server.
    /// </summary>
    public static IResourceBuilder<LocalServerResource> AddLocalPostgres(
        this IDistributedApplicationBuilder builder, string name, string databaseName, LocalRunDirectory run)
    {
        var port = LocalRunDirectory.FreePort();
        var password = ProcessLaunch.NewPassword();
        var launch = PostgresCluster.Init(run.Subdirectory(name), port, password);

        var healthCheckKey = $"{name}-postgres";
        builder.Services.AddHealthChecks().AddNpgSql(PostgresCluster.ConnectionString(port, password, "postgres"), name: healthCheckKey);
        return builder.AddLocalServer(name, launch, port, PostgresCluster.ConnectionString(port, password, databaseName), healthCheckKey);
    }
}
