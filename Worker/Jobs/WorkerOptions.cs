using System.ComponentModel.DataAnnotations;

namespace AspireLlm.Worker.Jobs;

/// <summary>How the Worker runs jobs, bound from <c>Worker</c>.</summary>
public sealed class WorkerOptions
{
    public const string SectionName = "Worker";

    /// <summary>Concurrent chat completion jobs per Worker process.</summary>
    [Range(1, 500)]
    public int ChatWorkerCount { get; set; } = 20;

    /// <summary>Deadline of one chat completion run (the provider call inside gets less).</summary>
    [Range(1, 3600)]
    public int ChatTimeoutSeconds { get; set; } = 60;

    /// <summary>Concurrent batch jobs per Worker process (each runs its own items concurrently too).</summary>
    [Range(1, 100)]
    public int BatchWorkerCount { get; set; } = 2;

    /// <summary>Deadline of one batch run.</summary>
    [Range(1, 86_400)]
    public int BatchTimeoutSeconds { get; set; } = 1800;

    /// <summary>Concurrent index jobs per Worker process (embedding is CPU-bound with the local model).</summary>
    [Range(1, 64)]
    public int IndexWorkerCount { get; set; } = 2;

    /// <summary>Deadline of one index run (one document, or a collection's rebuild).</summary>
    [Range(1, 86_400)]
    public int IndexTimeoutSeconds { get; set; } = 1800;

    /// <summary>Agent tasks one Worker process runs at once (a task waiting for a person holds none).</summary>
    [Range(1, 500)]
    public int AgentWorkerCount { get; set; } = 20;

    /// <summary>On SIGTERM, how long running jobs may take to finish before they are requeued.</summary>
    [Range(1, 600)]
    public int ShutdownGraceSeconds { get; set; } = 30;

    /// <summary>Bound on how long a job held by a killed worker waits before another worker takes it.</summary>
    [Range(5, 3600)]
    public int InvisibilityTimeoutSeconds { get; set; } = 60;

    /// <summary>A pending job whose row has not changed for this long is dispatched again (its queue entry was lost).</summary>
    [Range(60, 86_400)]
    public int RedispatchPendingAfterSeconds { get; set; } = 900;

    /// <summary>
    /// How often the dispatcher sweeps for jobs without a queue entry when no notification woke it
    /// (notifications are missed only while it reconnects to Postgres).
    /// </summary>
    [Range(1, 3600)]
    public int DispatchSweepSeconds { get; set; } = 5;
}
