using AspireLlm.OrchestrationBench;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

// The pipeline's own cost per call, from one BenchmarkDotNet run: each figure is a difference of
// means measured in the same run, so machine speed cancels out. Usage: bench/run-orchestration-bench.sh [--quick] [--rollup | --provider | --tokens]
var quick = args.Contains("--quick");
var job = quick ? Job.ShortRun : Job.Default.WithWarmupCount(5).WithIterationCount(15);
var config = DefaultConfig.Instance.AddJob(job.WithId(quick ? "quick" : "standard")).WithOptions(ConfigOptions.DisableOptimizationsValidator);
if (args.Contains("--rollup"))
{
    RollupReport.Print(BenchmarkRunner.Run<RollupBenchmarks>(config));
    return;
}

if (args.Contains("--tokens"))
{
    TokenCountingReport.Print(BenchmarkRunner.Run<TokenCountingBenchmarks>(config));
    return;
}

if (args.Contains("--provider"))
{
    ProviderReport.Print(BenchmarkRunner.Run<ProviderClientBenchmarks>(config));
    return;
}

var summary = BenchmarkRunner.Run<PipelineBenchmarks>(config);

double Mean(string method) =>
    summary.Reports.Single(report => report.BenchmarkCase.Descriptor.WorkloadMethod.Name == method).ResultStatistics!.Mean / 1000.0;

long Allocated(string method) =>
    summary.Reports.Single(report => report.BenchmarkCase.Descriptor.WorkloadMethod.Name == method).GcStats.GetBytesAllocatedPerOperation(
        summary.Reports.Single(report => report.BenchmarkCase.Descriptor.WorkloadMethod.Name == method).BenchmarkCase) ?? 0;

var simulator = Mean(nameof(PipelineBenchmarks.Simulator));
var redisGet = Mean(nameof(PipelineBenchmarks.RedisGet));
var rows = new (string Name, double Overhead, string Method, double Target)[]
{
    ("cache bypassed: pipeline − simulator", Mean(nameof(PipelineBenchmarks.PipelineNoCache)) - simulator, nameof(PipelineBenchmarks.PipelineNoCache), 25),
    ("cache miss, no I/O: pipeline − simulator", Mean(nameof(PipelineBenchmarks.PipelineMemoryMiss)) - simulator, nameof(PipelineBenchmarks.PipelineMemoryMiss), 25),
    ("cache hit, no I/O: whole call", Mean(nameof(PipelineBenchmarks.PipelineMemoryHit)), nameof(PipelineBenchmarks.PipelineMemoryHit), 25),
    ("open breaker: whole call", Mean(nameof(PipelineBenchmarks.OpenBreaker)), nameof(PipelineBenchmarks.OpenBreaker), 5),
};
var withRedis = new (string Name, double Micros, string Method)[]
{
    ("cache miss with Redis: pipeline − simulator", Mean(nameof(PipelineBenchmarks.PipelineCacheMiss)) - simulator, nameof(PipelineBenchmarks.PipelineCacheMiss)),
    ("cache hit with Redis: whole call", Mean(nameof(PipelineBenchmarks.PipelineCacheHit)), nameof(PipelineBenchmarks.PipelineCacheHit)),
};

Console.WriteLine();
Console.WriteLine($"simulator alone {simulator:0.00} µs (the baseline); raw Redis GET {redisGet:0.00} µs");
Console.WriteLine($"{"in-process cost per call",-48} {"µs",8} {"target",8} {"alloc B/call",13}  verdict");
foreach (var row in rows)
{
    Console.WriteLine($"{row.Name,-48} {row.Overhead,8:0.00} {"<" + row.Target,8} {Allocated(row.Method),13}  {(row.Overhead < row.Target ? "met" : "NOT MET")}");
}

Console.WriteLine();
Console.WriteLine($"{"with a real local Redis (I/O included)",-48} {"µs",8} {"",8} {"alloc B/call",13}");
foreach (var row in withRedis)
{
    Console.WriteLine($"{row.Name,-48} {row.Micros,8:0.00} {"",8} {Allocated(row.Method),13}");
}
