using System.Diagnostics;
using AspireLlm.Tests.Shared;

namespace AspireLlm.GatewayBench;

/// <summary>
/// A CPU profile of the Api while wrk loads it: `perf record` of the process, read with
/// `perf report -i FILE --no-children --sort symbol`. Start the benchmark with
/// `--env DOTNET_PerfMapEnabled=1` so that perf can name JIT-compiled methods.
/// </summary>
internal static class Profiler
{
    public static async Task<string> TraceAsync(ServiceProcess api, Uri url, string script, TimeSpan length)
    {
        var file = Path.Combine(Path.GetTempPath(), $"aspirellm-gateway-{DateTime.UtcNow:HHmmss}.perf.data");
        var load = Wrk.RunAsync(url, 16, length + TimeSpan.FromSeconds(2), script);
        using var perf = Process.Start(new ProcessStartInfo("perf",
            ["record", "-e", "cpu-clock", "-F", "999", "-g", "-p", api.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "-o", file,
             "--", "sleep", length.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        { RedirectStandardOutput = true, RedirectStandardError = true })!;
        await perf.WaitForExitAsync();
        await load;
        return file;
    }
}
