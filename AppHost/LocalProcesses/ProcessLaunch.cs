using System.Diagnostics;

namespace AspireLlm.AppHost.LocalProcesses;

/// <summary>
/// A server command line, and small process helpers. This folder's Launch/Cluster files have no Aspire
/// types so that the service tests can link them and start the very same servers the AppHost starts.
/// </summary>
public sealed record ProcessLaunch(string Command, IReadOnlyList<string> Args, string WorkingDirectory)
{
    public static string? FindOnPath(string command) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, command))
            .FirstOrDefault(File.Exists);

    /// <summary>Runs a command to completion; a non-zero exit throws with its output.</summary>
    public static void Run(string command, params string[] args)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {command}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{command} failed ({process.ExitCode}): {stderr.Result}{stdout.Result}");
        }
    }

    public static string NewPassword() =>
        Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
}
