using AspireLlm.Tests.Shared;

namespace AspireLlm.Bench;

/// <summary>CPU time used by each part of the system between two readings.</summary>
internal sealed record CpuReading(TimeSpan Api, TimeSpan Workers, TimeSpan Postgres, TimeSpan Redis)
{
    public static CpuReading Take(ServiceProcess api, IEnumerable<ServiceProcess> workers) => new(
        api.CpuTime(),
        workers.Aggregate(TimeSpan.Zero, (total, worker) => total + worker.CpuTime()),
        // Postgres backends are forked without the data directory in their command line, and Redis
        // rewrites its own; count every postgres and redis-server process (the benchmark runs alone).
        ServiceProcess.CpuTimeOfProcessesMatching("postgres"),
        ServiceProcess.CpuTimeOfProcessesMatching("redis-server"));

    public static CpuReading operator -(CpuReading after, CpuReading before) => new(
        after.Api - before.Api, after.Workers - before.Workers, after.Postgres - before.Postgres, after.Redis - before.Redis);

    /// <summary>"Workers / Postgres / Redis" in µs per job.</summary>
    public string PerJob(int jobs) =>
        $"{Workers.TotalMicroseconds / jobs:F0} / {Postgres.TotalMicroseconds / jobs:F0} / {Redis.TotalMicroseconds / jobs:F0} µs";
}
