using System.Diagnostics;

namespace AspireLlm.AppHost;

internal static class ContainerRuntime
{
    /// <summary>
    /// True when a container engine answers. <c>docker --version</c> is not enough: the client can be
    /// installed without a daemon, and then container resources hang without a word.
    /// </summary>
    public static bool IsAvailable()
    {
        foreach (var engine in new[] { "docker", "podman" })
        {
            try
            {
                using var process = Process.Start(new ProcessStartInfo(engine, "info")
                {
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                });
                if (process is null)
                {
                    continue;
                }

                process.StandardOutput.ReadToEndAsync();
                process.StandardError.ReadToEndAsync();
                if (!process.WaitForExit(TimeSpan.FromSeconds(10)))
                {
                    process.Kill(entireProcessTree: true);
                    continue;
                }

                if (process.ExitCode == 0)
                {
                    return true;
                }
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // Not installed.
            }
        }

        return false;
    }
}
