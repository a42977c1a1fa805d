using System.Diagnostics;

namespace AspireLlm.AppHost.LocalProcesses;

/// <summary>
/// A per-run directory for the data of local Redis and Postgres processes. It is removed when the
/// AppHost exits; directories left behind by an AppHost that was killed are removed at the next start.
/// </summary>
internal sealed class LocalRunDirectory
{
    private static readonly string Root = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "aspirellm-local");

    private LocalRunDirectory(string path) => Path = path;

    public string Path { get; }

    public static LocalRunDirectory Create()
    {
        Directory.CreateDirectory(Root);
        RemoveOrphans();

        var path = System.IO.Path.Combine(Root, $"{Environment.ProcessId}-{Guid.NewGuid():N}"[..20]);
        Directory.CreateDirectory(path);
        // The postgres user must be able to reach its data directory below this one.
        PostgresCluster.AllowTraversal(Root);
        PostgresCluster.AllowTraversal(path);

        StartJanitor(path);
        return new LocalRunDirectory(path);
    }

    public string Subdirectory(string name)
    {
        var path = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>A free loopback port for a local server (see <see cref="FreePorts"/>).</summary>
    public static int FreePort() => FreePorts.Next();

    /// <summary>
    /// Removes the directory once this process has exited and no server still runs from it. A small
    /// detached shell does it rather than an exit handler, because the servers are stopped by DCP
    /// after we exit, and because an AppHost killed with SIGKILL runs no handler at all.
    /// </summary>
    private static void StartJanitor(string path)
    {
        // '[/]' matches the servers' arguments (which hold "{path}/...") but not this script's own command line.
        var script = $"while kill -0 {Environment.ProcessId} 2>/dev/null || pgrep -f '{path}[/]' >/dev/null; do sleep 1; done; rm -rf '{path}'";
        var start = new ProcessStartInfo("setsid", ["sh", "-c", script])
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
        };
        try
        {
            Process.Start(start)?.Dispose();
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No setsid (not Linux): the orphan sweep at the next start removes the directory instead.
        }
    }

    private static void RemoveOrphans()
    {
        foreach (var directory in Directory.EnumerateDirectories(Root))
        {
            var name = System.IO.Path.GetFileName(directory);
            var owner = name.Split('-')[0];
            if (int.TryParse(owner, out var pid) && !IsRunning(pid))
            {
                TryDelete(directory);
            }
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
