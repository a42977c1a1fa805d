using System.Runtime.InteropServices;

namespace AspireLlm.Orchestration.Tokens;

/// <summary>
/// Runs CPU-heavy work that one caller asked for (counting or redacting a huge prompt, embedding a
/// batch with the local model) on a thread of its own at a lower scheduling priority, so that on a
/// busy core the short requests of everyone else (health probes included) still get the CPU first.
/// Written by hand because .NET exposes no per-thread priority on Linux (Thread.Priority is ignored
/// there); the kernel's nice value applies per thread, and raising it needs no privilege.
/// </summary>
internal static class BackgroundCpuWork
{
    /// <summary>Nice 10: about a tenth of the CPU share of a request thread when both want the core.</summary>
    private const int Niceness = 10;
    private const int PriorityOfProcess = 0; // PRIO_PROCESS: with a thread id, that thread alone on Linux

    public static Task<T> RunAsync<T>(Func<T> work, CancellationToken cancellationToken) =>
        Task.Factory.StartNew(() =>
        {
            Lower();
            return work();
        }, cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private static void Lower()
    {
        if (OperatingSystem.IsLinux())
        {
            // Best effort: a failure leaves the thread at normal priority, which is only slower for others.
            _ = SetPriority(PriorityOfProcess, GetThreadId(), Niceness);
        }
    }

    [DllImport("libc", EntryPoint = "gettid")]
    private static extern int GetThreadId();

    [DllImport("libc", EntryPoint = "setpriority")]
    private static extern int SetPriority(int which, int who, int priority);
}
