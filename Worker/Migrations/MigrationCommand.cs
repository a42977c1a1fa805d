using AspireLlm.Orchestration.Storage;
using AspireLlm.ServiceDefaults;
using Npgsql;

namespace AspireLlm.Worker.Migrations;

/// <summary>
/// <c>Worker migrate</c>: the one-shot step the AppHost runs before the services start. It waits for
/// the server to accept connections (a fresh server can still be starting), applies the schema, exits.
/// </summary>
internal static class MigrationCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var configuration = new ConfigurationBuilder()
            .AddEnvironmentVariables()
            .AddCommandLine(args)
            .Build();
        var connectionString = configuration.GetConnectionString(ResourceNames.Database);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            await Console.Error.WriteLineAsync($"ConnectionStrings:{ResourceNames.Database} is not set.");
            return 2;
        }

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                DatabaseMigrator.Migrate(connectionString, Console.Out);
                return 0;
            }
            catch (NpgsqlException exception) when (attempt < 30 && exception.IsTransient)
            {
                await Console.Error.WriteLineAsync($"Database not ready ({exception.Message}); retrying.");
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
        }
    }
}
