using System.Runtime.InteropServices;

namespace AspireLlm.Orchestration.Tokens;

/// <summary>
/// Sets the calling thread's Linux scheduling policy. Written by hand because .NET has no API for it:
/// <see cref="Thread.Priority"/> is not applied to threads on Linux. Switching to <c>SCHED_IDLE</c>
/// needs no privilege; switching back would, so only threads that end with their work use it.
/// </summary>
internal static class ThreadScheduling
{
    private const int SchedIdle = 5;

    /// <summary>The calling thread runs only when nothing else on its CPU wants to (no effect off Linux).</summary>
    public static void MakeCurrentThreadIdle()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        // Any thread may lower its own priority; were the call refused (a seccomp profile), normal priority remains.
        _ = SetScheduler(0, SchedIdle, new SchedParam(0));
    }

    /// <summary>The calling thread's policy (5 is <c>SCHED_IDLE</c>); for tests.</summary>
    public static int CurrentPolicy() => OperatingSystem.IsLinux() ? GetScheduler(0) : 0;

    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct SchedParam(int Priority);

    // pid 0 is the calling thread: on Linux the scheduling calls act on threads.
    // DllImport rather than LibraryImport: both signatures are blittable, and LibraryImport would make the project allow unsafe code.
    [DllImport("libc", EntryPoint = "sched_setscheduler")]
    private static extern int SetScheduler(int pid, int policy, in SchedParam parameters);

    [DllImport("libc", EntryPoint = "sched_getscheduler")]
    private static extern int GetScheduler(int pid);
}
