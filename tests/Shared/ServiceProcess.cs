using System.Diagnostics;

namespace AspireLlm.Tests.Shared;

/// <summary>
/// One of our services (the Api or the Worker) as built, in a process of its own against the given
/// Postgres and Redis: for fault tests (SIGKILL, SIGTERM) and benchmarks (CPU time and peak memory
/// from /proc). The build configuration is the caller's own unless one is named.
/// </summary>
public sealed class ServiceProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _output = [];

    private ServiceProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public int Id => _process.Id;

    /// <summary>How a Worker names itself in a job's <c>worker</c> column.</summary>
    public string Name => $"{Environment.MachineName}:{_process.Id}";

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join('\n', _output);
            }
        }
    }

    /// <param name="project">"Api" or "Worker".</param>
    /// <param name="settings">Configuration keys (with ':') passed as environment variables.</param>
    /// <param name="pinToCores">A taskset CPU list (e.g. "1") to pin the process to, for benchmarks.</param>
    /// <param name="niceness">A nice value to run the process at (every thread inherits it), for benchmarks.</param>
    /// <param name="buildDirectory">Where the service's build is, if not this checkout's own (a benchmark comparing two builds).</param>
    public static ServiceProcess Start(
        string project, LocalInfrastructure infrastructure, IDictionary<string, string> settings, string? configuration = null,
        string? pinToCores = null, int? niceness = null, string? buildDirectory = null)
    {
        configuration ??= AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        buildDirectory ??= Path.Combine(RepositoryRoot(), project, "bin", configuration, "net10.0");
        var dll = Path.Combine(buildDirectory, $"AspireLlm.{project}.dll");
        var url = $"http://127.0.0.1:{ServerProcess.FreePort()}";
        // taskset and nice exec dotnet in place, so the process id stays the service's own.
        string[] command = [
            .. pinToCores is null ? [] : new[] { "taskset", "-c", pinToCores },
            .. niceness is null ? [] : new[] { "nice", "-n", niceness.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            "dotnet", dll];
        var start = new ProcessStartInfo(command[0], command[1..])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        start.Environment["ConnectionStrings__llmdb"] = infrastructure.DatabaseConnectionString;
        start.Environment["ConnectionStrings__cache"] = infrastructure.RedisConnectionString;
        start.Environment["ASPNETCORE_URLS"] = url;
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        // As our images run (Directory.Build.props, "Container images"): hot code optimised within seconds of the start.
        start.Environment["DOTNET_TC_CallCountingDelayMs"] = "0";
        start.Environment["DOTNET_TC_CallCountThreshold"] = "500";
        if (project == "Api")
        {
            start.Environment["DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"] = "1";
        }

        start.Environment["Logging__LogLevel__Default"] = "Warning";
        // Content is sealed at rest: every process shares the tests' key unless the caller sets its own.
        start.Environment["Conversations__EncryptionKey"] = TestEncryption.Secret;
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = Process.Start(start)!;
        var service = new ServiceProcess(process, new Uri(url));
        process.OutputDataReceived += (_, line) => service.Append(line.Data);
        process.ErrorDataReceived += (_, line) => service.Append(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return service;
    }

    public async Task WaitHealthyAsync(HttpClient http)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline && !HasExited)
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
            catch (TaskCanceledException) when (DateTime.UtcNow < deadline)
            {
                // The client's timeout: a process still starting on a busy machine answers later.
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"{BaseAddress} did not become healthy:\n{Output}");
    }

    public void Signal(string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", _process.Id.ToString()]);
        kill!.WaitForExit();
    }

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancellation.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>User plus system CPU time so far, from /proc/PID/stat (clock ticks of 10 ms).</summary>
    public TimeSpan CpuTime() => CpuTimeOf(_process.Id);

    public static TimeSpan CpuTimeOf(int pid) => CpuTimeOf(pid, withReapedChildren: false);

    /// <summary>
    /// CPU time of every process whose command line contains <paramref name="marker"/>, with that of their
    /// children which have ended (a Postgres backend that exits is reaped by the postmaster, whose
    /// counters then hold its time): summed over live processes only, a reading could go down between
    /// two takes, and a benchmark once printed a negative Postgres CPU per job.
    /// </summary>
    public static TimeSpan CpuTimeOfProcessesMatching(string marker) =>
        Directory.EnumerateDirectories("/proc")
            .Select(Path.GetFileName)
            .Where(name => int.TryParse(name, out _))
            .Select(name => (Pid: int.Parse(name!), CommandLine: SafeRead($"/proc/{name}/cmdline")))
            .Where(process => process.CommandLine.Contains(marker, StringComparison.Ordinal))
            .Aggregate(TimeSpan.Zero, (total, process) => total + CpuTimeOf(process.Pid, withReapedChildren: true));

    private static TimeSpan CpuTimeOf(int pid, bool withReapedChildren)
    {
        // /proc/<pid>/stat after the command's closing parenthesis: utime, stime, cutime, cstime are
        // fields 14-17 of the line (11-14 here), in clock ticks of 10 ms.
        const int UserTime = 11, SystemTime = 12, ChildrenUserTime = 13, ChildrenSystemTime = 14;
        try
        {
            var fields = File.ReadAllText($"/proc/{pid}/stat").Split(')')[^1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var ticks = long.Parse(fields[UserTime]) + long.Parse(fields[SystemTime]);
            if (withReapedChildren)
            {
                ticks += long.Parse(fields[ChildrenUserTime]) + long.Parse(fields[ChildrenSystemTime]);
            }

            return TimeSpan.FromMilliseconds(ticks * 10);
        }
        catch (IOException)
        {
            return TimeSpan.Zero; // the process ended
        }
    }

    /// <summary>Peak resident memory (VmHWM) in MiB.</summary>
    /// <summary>
    /// Context switches (voluntary and not) of each of the process's threads so far; <see cref="ContextSwitchesSince"/>
    /// gives those of a window. On a virtual machine each one costs microseconds of kernel time, so switches
    /// per request explain much of a request's CPU.
    /// </summary>
    public Dictionary<string, long> ContextSwitches()
    {
        var byThread = new Dictionary<string, long>();
        foreach (var task in Directory.EnumerateDirectories($"/proc/{_process.Id}/task"))
        {
            foreach (var line in SafeRead(Path.Combine(task, "status")).Split('\n'))
            {
                if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal) || line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
                {
                    byThread[Path.GetFileName(task)] = byThread.GetValueOrDefault(Path.GetFileName(task))
                        + long.Parse(line[(line.IndexOf(':') + 1)..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
                }
            }
        }

        return byThread;
    }

    /// <summary>
    /// Switches since <paramref name="earlier"/>, by the threads alive now (a thread started since counts from
    /// zero). A thread that ended in between takes its count with it, which undercounts a little, where a plain
    /// difference of sums could even go negative.
    /// </summary>
    public long ContextSwitchesSince(Dictionary<string, long> earlier) =>
        ContextSwitches().Sum(thread => thread.Value - earlier.GetValueOrDefault(thread.Key));

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

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.Add(line);
            }
        }
    }

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

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "AspireLlm.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Run from inside the repository.");
    }
}
