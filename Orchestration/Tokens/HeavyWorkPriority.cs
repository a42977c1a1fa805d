namespace AspireLlm.Orchestration.Tokens;

/// <summary>
/// How the threads doing heavy work for one caller (<see cref="BackgroundCpuWork"/>) are scheduled,
/// from <c>Orchestration:HeavyWorkPriority</c>.
/// </summary>
public enum HeavyWorkPriority
{
    /// <summary>
    /// Like every other thread. Right where the process shares its CPUs with unrelated busy processes
    /// (a developer's machine, a CI runner): there an idle thread waits for all of them.
    /// </summary>
    Normal,

    /// <summary>
    /// Linux's <c>SCHED_IDLE</c>: the thread runs only when no other thread wants the CPU, and any
    /// other thread that wakes takes the CPU from it at once. For a process with CPUs of its own (a
    /// container with a CPU limit, which competes only with its own threads): a burst of huge prompts
    /// then uses the spare CPU instead of delaying every normal request at each hop. Under 8 clients
    /// sending 1 MiB prompts to a one-core Api, normal requests' p50 went from about 8.6 to 2.1 ms
    /// (bench/run-hostile-bench.sh). Our container images set it.
    /// </summary>
    Idle,
}
