using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AspireLlm.AppHost.LocalProcesses;

namespace AspireLlm.Tests.Shared;

/// <summary>A server the tests started from a <see cref="ProcessLaunch"/>; stopped politely, then killed.</summary>
public sealed class ServerProcess : IDisposable
{
    private readonly Process _process;

    private ServerProcess(Process process) => _process = process;

    public static ServerProcess Start(ProcessLaunch launch)
    {
        var start = new ProcessStartInfo(launch.Command)
        {
            WorkingDirectory = launch.WorkingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in launch.Args)
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new ServerProcess(process);
    }

    /// <summary>Starts a Redis-protocol server (redis-server, or Garnet when asked or when it is missing).</summary>
    public static (ServerProcess Server, string ConnectionString) StartRedis(string directory, bool preferGarnet)
    {
        var port = FreePort();
        var password = ProcessLaunch.NewPassword();
        var server = Start(RedisLaunch.Create(directory, port, password, GarnetServerDll(), preferGarnet));
        WaitForPort(port);
        return (server, RedisLaunch.ConnectionString(port, password));
    }

    /// <summary>Starts Garnet with vector sets (VADD/VSIM), for the vector index.</summary>
    public static (ServerProcess Server, string ConnectionString) StartVectorStore(string directory)
    {
        var port = FreePort();
        var password = ProcessLaunch.NewPassword();
        var server = Start(RedisLaunch.CreateVectorStore(directory, port, password, GarnetServerDll()));
        WaitForPort(port);
        return (server, RedisLaunch.ConnectionString(port, password));
    }

    public static bool RedisServerInstalled => ProcessLaunch.FindOnPath("redis-server") is not null;

    /// <summary>A free loopback port for a local server, the same way the AppHost finds one.</summary>
    public static int FreePort() => FreePorts.Next();

    public void Dispose()
    {
        try
        {
            // SIGINT is Postgres's fast shutdown (it ends its backends too) and stops Redis cleanly.
            using var kill = Process.Start("kill", ["-INT", _process.Id.ToString()]);
            if (!_process.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }

    private static void WaitForPort(int port)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(100);
            }
        }
    }

    private static string GarnetServerDll()
    {
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        return Path.Combine(packages, "garnet-server", "2.2.8", "tools", "net10.0", "any", "GarnetServer.dll");
    }
}
