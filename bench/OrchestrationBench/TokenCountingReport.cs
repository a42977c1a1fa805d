using BenchmarkDotNet.Reports;

namespace AspireLlm.OrchestrationBench;

/// <summary>Prompt counting per request, afresh and with repeated texts remembered, from one run.</summary>
internal static class TokenCountingReport
{
    public static void Print(Summary summary)
    {
        BenchmarkReport Report(string method) => summary.Reports.Single(report => report.BenchmarkCase.Descriptor.WorkloadMethod.Name == method);
        double Micros(string method) => Report(method).ResultStatistics!.Mean / 1000;
        long Allocated(string method) => Report(method).GcStats.GetBytesAllocatedPerOperation(Report(method).BenchmarkCase) ?? 0;

        const int turns = TokenCountingBenchmarks.Turns;
        Console.WriteLine();
        Console.WriteLine($"| workload | afresh µs/request | remembered µs/request | afresh B/request | remembered B/request |");
        Console.WriteLine("|---|---|---|---|---|");
        Console.WriteLine($"| a {turns}-turn chat (system prompt, a tool, the conversation so far), mean over its turns | " +
                          $"{Micros(nameof(TokenCountingBenchmarks.ChatAfresh)) / turns:0.00} | {Micros(nameof(TokenCountingBenchmarks.ChatRemembered)) / turns:0.00} | " +
                          $"{Allocated(nameof(TokenCountingBenchmarks.ChatAfresh)) / turns} | {Allocated(nameof(TokenCountingBenchmarks.ChatRemembered)) / turns} |");
        Console.WriteLine($"| the typical request (bench/workload/chat-request.json) sent again and again | " +
                          $"{Micros(nameof(TokenCountingBenchmarks.TypicalAfresh)):0.00} | {Micros(nameof(TokenCountingBenchmarks.TypicalRemembered)):0.00} | " +
                          $"{Allocated(nameof(TokenCountingBenchmarks.TypicalAfresh))} | {Allocated(nameof(TokenCountingBenchmarks.TypicalRemembered))} |");
    }
}
