using BenchmarkDotNet.Reports;

namespace AspireLlm.OrchestrationBench;

/// <summary>The SDK's cost per chat call over the bare HTTP exchange, as a difference of means from one run.</summary>
internal static class ProviderReport
{
    public static void Print(Summary summary)
    {
        BenchmarkReport Report(string method) => summary.Reports.Single(report => report.BenchmarkCase.Descriptor.WorkloadMethod.Name == method);
        double Micros(string method) => Report(method).ResultStatistics!.Mean / 1000;
        long Allocated(string method) => Report(method).GcStats.GetBytesAllocatedPerOperation(Report(method).BenchmarkCase) ?? 0;

        var exchange = Micros(nameof(ProviderClientBenchmarks.HttpExchange));
        var sdk = Micros(nameof(ProviderClientBenchmarks.OpenAiSdk));
        Console.WriteLine();
        Console.WriteLine($"the HTTP exchange alone: {exchange:0.00} µs, {Allocated(nameof(ProviderClientBenchmarks.HttpExchange))} B per call");
        Console.WriteLine($"the OpenAI SDK through Microsoft.Extensions.AI: {sdk:0.00} µs, {Allocated(nameof(ProviderClientBenchmarks.OpenAiSdk))} B per call");
        Console.WriteLine($"what the SDK adds per call (the most a hand-written client could save): {sdk - exchange:0.00} µs, " +
                          $"{Allocated(nameof(ProviderClientBenchmarks.OpenAiSdk)) - Allocated(nameof(ProviderClientBenchmarks.HttpExchange))} B");
    }
}
