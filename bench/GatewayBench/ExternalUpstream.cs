using System.Diagnostics;
using AspireLlm.Tests.Shared;

namespace AspireLlm.GatewayBench;

/// <summary>
/// The mock provider as its own process (bench/workload/MockUpstream.cs), as a real provider is: the
/// Api pays for a real socket, a real answer with usage and Content-Length, and keep-alive. Built
/// outside the repository, so that the repository's build settings do not apply to it.
/// </summary>
internal sealed class ExternalUpstream : IDisposable
{
    private readonly Process _process;

    private ExternalUpstream(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    /// <summary>The OpenAI-compatible endpoint (ends with /v1/).</summary>
    public Uri OpenAiEndpoint => new(BaseAddress, "/v1/");

    public static async Task<ExternalUpstream> StartAsync(string repositoryRoot, string cores)
    {
        var work = Directory.CreateTempSubdirectory("aspirellm-mock-upstream-").FullName;
        File.Copy(Path.Combine(repositoryRoot, "bench", "workload", "MockUpstream.cs"), Path.Combine(work, "MockUpstream.cs"));
        var artifacts = Path.Combine(work, "artifacts");
        await RunAsync("dotnet", ["build", Path.Combine(work, "MockUpstream.cs"), "-c", "Release", "--artifacts-path", artifacts, "-v", "q", "-nologo"]);

        var url = new Uri($"http://127.0.0.1:{ServerProcess.FreePort()}");
        var start = new ProcessStartInfo("taskset", ["-c", cores, "dotnet", Path.Combine(artifacts, "bin", "release", "MockUpstream.dll"), "--urls", url.ToString()])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var upstream = new ExternalUpstream(process, url);
        using var http = new HttpClient();
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                (await http.GetAsync(new Uri(url, "/health"))).EnsureSuccessStatusCode();
                return upstream;
            }
            catch (HttpRequestException) when (attempt < 100 && !process.HasExited)
            {
                await Task.Delay(100);
            }
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }

    private static async Task RunAsync(string file, string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed:\n{output}");
        }
    }
}
