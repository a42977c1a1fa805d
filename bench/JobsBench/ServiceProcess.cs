using System.Diagnostics;
using AspireLlm.Tests.Shared;

namespace AspireLlm.Bench;

/// <summary>An Api or Worker process as built in Release, with its CPU time and peak memory read from /proc.</summary>
internal sealed class ServiceProcess : IDisposable
{
    private readonly Process _process;

    private ServiceProcess(Process process, string baseAddress)
    {
        _process = process;
        BaseAddress = new Uri(baseAddress);
    }

    public Uri BaseAddress { get; }

    public static ServiceProcess Start(string project, LocalInfrastructure infrastructure, IDictionary<string, string> settings)
    {
        var dll = Path.Combine(RepositoryRoot(), project, "bin", "Release", "net10.0", $"AspireLlm.{project}.dll");
        var url = $"http://127.0.0.1:{ServerProcess.FreePort()}";
        var start = new ProcessStartInfo("dotnet", [dll]) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["ConnectionStrings__llmdb"] = infrastructure.DatabaseConnectionString;
        start.Environment["ConnectionStrings__cache"] = infrastructure.RedisConnectionString;
        start.Environment["ASPNETCORE_URLS"] = url;
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, line) => { if (line.Data is { Length: > 0 }) Console.Error.WriteLine($"[{project}] {line.Data}"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new ServiceProcess(process, url);
    }

    public async Task WaitHealthyAsync(HttpClient http)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var response = await http.GetAsync(new Uri(BaseAddress, "/health"));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"{BaseAddress} did not become healthy.");
    }

    /// <summary>User plus system CPU time so far, from /proc/PID/stat (clock ticks of 10 ms).</summary>
    public TimeSpan CpuTime() => CpuTimeOf(_process.Id);

    public static TimeSpan CpuTimeOf(int pid)
    {
        try
        {
            var fields = File.ReadAllText($"/proc/{pid}/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return TimeSpan.FromMilliseconds((long.Parse(fields[11]) + long.Parse(fields[12])) * 10);
        }
        catch (IOException)
        {
            return TimeSpan.Zero; // the process ended
        }
    }

    /// <summary>CPU time of every process whose command line contains <paramref name="marker"/> (e.g. a data directory).</summary>
    public static TimeSpan CpuTimeOfProcessesMatching(string marker) =>
        Directory.EnumerateDirectories("/proc")
            .Select(Path.GetFileName)
            .Where(name => int.TryParse(name, out _))
            .Select(name => (Pid: int.Parse(name!), CommandLine: SafeRead($"/proc/{name}/cmdline")))
            .Where(process => process.CommandLine.Contains(marker, StringComparison.Ordinal))
            .Aggregate(TimeSpan.Zero, (total, process) => total + CpuTimeOf(process.Pid));

    private static string SafeRead(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return "";
        }
    }

    /// <summary>Peak resident memory (VmHWM) in MiB.</summary>
    public double PeakRssMiB()
    {
        var line = File.ReadAllLines($"/proc/{_process.Id}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }

        _process.Dispose();
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "AspireLlm.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Run the benchmark from inside the repository.");
    }
}
