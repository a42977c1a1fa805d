using System.Diagnostics;
using AspireLlm.Tests.Shared;

namespace AspireLlm.ServiceTests.Faults;

/// <summary>
/// The real Worker executable (as built, as deployed) in its own process, against the test Postgres
/// and Redis, so that it can be killed with SIGKILL or stopped with SIGTERM like in production.
/// </summary>
public sealed class WorkerProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _output = [];

    private WorkerProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    /// <summary>Where the worker serves /health and /alive.</summary>
    public Uri BaseAddress { get; }

    public int Id => _process.Id;

    /// <summary>How the worker names itself in a job's <c>worker</c> column.</summary>
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

    public static WorkerProcess Start(LocalInfrastructure infrastructure, IDictionary<string, string> settings)
    {
        var start = new ProcessStartInfo("dotnet", [WorkerDll()])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(WorkerDll())!,
        };
        start.Environment["ConnectionStrings__llmdb"] = infrastructure.DatabaseConnectionString;
        start.Environment["ConnectionStrings__cache"] = infrastructure.RedisConnectionString;
        var url = $"http://127.0.0.1:{ServerProcess.FreePort()}";
        start.Environment["ASPNETCORE_URLS"] = url;
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["Webhooks__AllowPrivateNetworks"] = "true";
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = Process.Start(start)!;
        var worker = new WorkerProcess(process, new Uri(url));
        process.OutputDataReceived += (_, line) => worker.Append(line.Data);
        process.ErrorDataReceived += (_, line) => worker.Append(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
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

    /// <summary>The Worker as built beside these tests (same configuration), found from the repository root.</summary>
    private static string WorkerDll()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "AspireLlm.sln")))
        {
            directory = directory.Parent;
        }

        var configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        return Path.Combine(directory!.FullName, "Worker", "bin", configuration, "net10.0", "AspireLlm.Worker.dll");
    }
}
