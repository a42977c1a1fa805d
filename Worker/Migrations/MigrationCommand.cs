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
/// <c>Worker migrate --wait</c> changes nothing: it waits until that step has run (every script applied,
/// Hangfire's schema there, nothing left in the clear) and exits 0, so that a Kubernetes init container
/// can hold the services back until the migrations Job has finished, with no API access of its own.
/// </summary>
internal static class MigrationCommand
{
    private const string WaitSwitch = "--wait";
    private static readonly TimeSpan WaitPoll = TimeSpan.FromSeconds(2);

    public static async Task<int> RunAsync(string[] args)
    {
        var wait = args.Contains(WaitSwitch);
        var configuration = new ConfigurationBuilder()
            .AddEnvironmentVariables()
            .AddCommandLine([.. args.Where(arg => arg != WaitSwitch)])
            .Build();
        var connectionString = configuration.GetConnectionString(ResourceNames.Database);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            await Console.Error.WriteLineAsync($"ConnectionStrings:{ResourceNames.Database} is not set.");
            return 2;
        }

        if (wait)
        {
            return await WaitUntilCurrentAsync(connectionString);
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

    private static async Task<int> WaitUntilCurrentAsync(string connectionString)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        while (true)
        {
            try
            {
                if (DatabaseMigrator.IsCurrent(connectionString) && await LegacyContentSealer.CountAsync(dataSource, CancellationToken.None) == 0)
                {
                    Console.WriteLine("Schema is current.");
                    return 0;
                }

                Console.WriteLine("Waiting for the migrations step.");
            }
            catch (NpgsqlException exception)
            {
                // Not there yet: the server is starting, or the migrations step has not created the database.
                Console.WriteLine($"Waiting for the database ({exception.Message}).");
            }

            await Task.Delay(WaitPoll);
        }
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
