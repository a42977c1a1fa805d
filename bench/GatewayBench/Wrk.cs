using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace AspireLlm.GatewayBench;

/// <summary>Runs wrk (the standard HTTP load tool) and reads its summary: requests/s and latency percentiles.</summary>
internal static partial class Wrk
{
    public sealed record Result(double RequestsPerSecond, long Requests, double P50Ms, double P99Ms, long Errors);

    public static async Task<Result> RunAsync(Uri url, int connections, TimeSpan duration, string luaScript)
    {
        var start = new ProcessStartInfo("wrk",
            ["-t1", $"-c{connections}", $"-d{(int)duration.TotalSeconds}s", "--latency", "-s", luaScript, url.ToString()])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return new Result(
            Number(RequestsPerSecond().Match(output)),
            (long)Number(TotalRequests().Match(output)),
            Latency(output, "50%"),
            Latency(output, "99%"),
            NonSuccess().Match(output) is { Success: true } errors ? long.Parse(errors.Groups[1].Value, CultureInfo.InvariantCulture) : 0);
    }

    private static double Latency(string output, string percentile)
    {
        var match = Regex.Match(output, @"^\s*" + Regex.Escape(percentile) + @"\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline);
        var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch { "us" => value / 1000, "s" => value * 1000, _ => value };
    }

    private static double Number(Match match) => double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"(\d+) requests in")]
    private static partial Regex TotalRequests();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+(\d+)")]
    private static partial Regex NonSuccess();
}
