using BenchmarkDotNet.Reports;

namespace AspireLlm.OrchestrationBench;

/// <summary>The rollup's cost per gateway request, as differences of means from one run (machine speed cancels out).</summary>
internal static class RollupReport
{
    public static void Print(Summary summary)
    {
        BenchmarkReport Report(string method) => summary.Reports.Single(report => report.BenchmarkCase.Descriptor.WorkloadMethod.Name == method);
        double Mean(string method) => Report(method).ResultStatistics!.Mean;
        long Allocated(string method) => Report(method).GcStats.GetBytesAllocatedPerOperation(Report(method).BenchmarkCase) ?? 0;

        var baseline = Mean(nameof(RollupBenchmarks.Instruments));
        Console.WriteLine();
        Console.WriteLine($"the instruments alone (no listener): {baseline:0} ns, {Allocated(nameof(RollupBenchmarks.Instruments))} B per request");
        Console.WriteLine($"{"added per gateway request",-52} {"ns",8} {"alloc B",8}");
        foreach (var (name, method, without) in new[]
        {
            ("metric rollup, a 200 chat completion (6 measurements)", nameof(RollupBenchmarks.RolledUp), nameof(RollupBenchmarks.Instruments)),
            ("metric rollup, a 429 (1 measurement)", nameof(RollupBenchmarks.RolledUpRefused), nameof(RollupBenchmarks.InstrumentsRefused)),
            ("gateway usage sum (GatewayUsage.Record)", nameof(RollupBenchmarks.Usage), null),
        })
        {
            var cost = Mean(method) - (without is null ? 0 : Mean(without));
            var bytes = Allocated(method) - (without is null ? 0 : Allocated(without));
            Console.WriteLine($"{name,-52} {cost,8:0} {bytes,8}");
        }
    }
}
