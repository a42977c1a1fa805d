using System.Diagnostics;

namespace AspireLlm.DeployTests;

internal static class Processes
{
    public sealed record Result(int ExitCode, string Output);

    /// <summary>Runs a command to its end (or kills it at the timeout) and returns its exit code and output.</summary>
    public static async Task<Result> RunAsync(string file, IEnumerable<string> arguments, TimeSpan timeout,
        IDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Repository.Root,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish within {timeout}:\n{await stdout}{await stderr}");
        }

        return new Result(process.ExitCode, await stdout + await stderr);
    }
}
