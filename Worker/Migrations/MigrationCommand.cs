using AspireLlm.Orchestration.Encryption;
using AspireLlm.Orchestration.Storage;
using AspireLlm.ServiceDefaults;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AspireLlm.Worker.Migrations;

/// <summary>
/// <c>Worker migrate</c>: the one-shot step the AppHost runs before the services start. It waits for
/// the server to accept connections (a fresh server can still be starting), applies the schema, seals
/// any content an older version stored in the clear (with the services' encryption key), exits.
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
                break;
            }
            catch (NpgsqlException exception) when (attempt < 30 && exception.IsTransient)
            {
                await Console.Error.WriteLineAsync($"Database not ready ({exception.Message}); retrying.");
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
        }

        return await SealLegacyContentAsync(connectionString, configuration);
    }

    private static async Task<int> SealLegacyContentAsync(string connectionString, IConfiguration configuration)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        if (await LegacyContentSealer.CountAsync(dataSource, CancellationToken.None) == 0)
        {
            return 0;
        }

        ContentCipher cipher;
        try
        {
            cipher = EncryptionExtensions.CreateContentCipher(configuration);
        }
        catch (OptionsValidationException exception)
        {
            await Console.Error.WriteLineAsync($"Content stored in the clear by an older version must be sealed, and: {exception.Message}");
            return 2;
        }

        var sealedCount = await LegacyContentSealer.SealAsync(dataSource, cipher, CancellationToken.None);
        Console.WriteLine($"Sealed {sealedCount} value(s) stored in the clear by an older version (key '{cipher.ActiveKeyId}').");
        return 0;
    }
}
