using System.Text.Json.Nodes;
using AspireLlm.Tests.Shared;

namespace AspireLlm.GatewayBench;

/// <summary>
/// Two configurations of the Api compared in one sitting (<c>--versus NAME=VALUE</c>): both run at once,
/// pinned to the same core, and are loaded in turns, short runs alternating A-B then B-A, round after
/// round. This machine's speed drifts by ±15% or more between whole benchmark runs; taking the two
/// configurations' figures from neighbouring windows makes the difference between them show through it.
/// </summary>
internal static class Comparison
{
    private static readonly TimeSpan Run = TimeSpan.FromSeconds(8);
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(30);

    private sealed record Measure(string Name, int Connections, bool CacheHits);

    private static readonly Measure[] Measures =
    [
        new("1 connection", 1, CacheHits: false),
        new("16 connections", 16, CacheHits: false),
        new("exact-cache hits, 16 connections", 16, CacheHits: true),
    ];

    private sealed record Sample(double CpuMicros, double Switches, double P50Ms, double RequestsPerSecond);

    public static async Task RunAsync(
        GatewayUnderTest bench, Dictionary<string, string> versus, string? versusBuild, JsonObject request, string alias, int rounds)
    {
        using var a = bench.StartApi();
        using var b = bench.StartApi(versus, versusBuild);
        var apis = new[] { (Name: "A", Api: a), (Name: "B", Api: b) };
        var scripts = new Dictionary<ServiceProcess, (string Chat, string Hits)>();
        foreach (var (_, api) in apis)
        {
            var key = await bench.KeyAsync(api);
            scripts[api] = (Scripts.Chat(request, alias, key), Scripts.Chat(Scripts.Deterministic(request), alias, key));
        }

        foreach (var (_, api) in apis)
        {
            await Wrk.RunAsync(bench.ChatUrl(api), 16, WarmUp, scripts[api].Chat);
            await Wrk.RunAsync(bench.ChatUrl(api), 16, TimeSpan.FromSeconds(5), scripts[api].Hits);
            await Wrk.RunAsync(bench.ChatUrl(api), 1, TimeSpan.FromSeconds(5), scripts[api].Chat);
        }

        var samples = apis.ToDictionary(pair => pair.Name, _ => Measures.ToDictionary(measure => measure, _ => new List<Sample>()));
        for (var round = 0; round < rounds; round++)
        {
            foreach (var (name, api) in round % 2 == 0 ? apis : apis.Reverse())
            {
                foreach (var measure in Measures)
                {
                    var script = measure.CacheHits ? scripts[api].Hits : scripts[api].Chat;
                    var cpuBefore = api.CpuTime();
                    var switchesBefore = api.ContextSwitches();
                    var result = await Wrk.RunAsync(bench.ChatUrl(api), measure.Connections, Run, script);
                    var requests = Math.Max(1, result.Requests);
                    samples[name][measure].Add(new Sample(
                        (api.CpuTime() - cpuBefore).TotalMicroseconds / requests,
                        api.ContextSwitchesSince(switchesBefore) / (double)requests,
                        result.P50Ms,
                        result.RequestsPerSecond));
                }
            }
        }

        Console.WriteLine();
        var differences = versus.Select(pair => $"{pair.Key}={pair.Value}").Concat(versusBuild is null ? [] : [$"the build in {versusBuild}"]);
        Console.WriteLine($"A: the Api as configured and built here; B: the same with {string.Join(", ", differences)}.");
        Console.WriteLine($"{rounds} rounds of {Run.TotalSeconds:F0} s runs, alternating A-B and B-A; medians, then each round's figure.");
        Console.WriteLine("| load | figure | A | B | B / A | A by round | B by round |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var measure in Measures)
        {
            Row(measure, "Api CPU µs/request", sample => sample.CpuMicros, "F0");
            Row(measure, "context switches/request", sample => sample.Switches, "F1");
            Row(measure, "p50 ms", sample => sample.P50Ms, "F2");
            Row(measure, "requests/s", sample => sample.RequestsPerSecond, "F0");
        }

        Console.WriteLine($"peak RSS: A {a.PeakRssMiB():F0} MiB, B {b.PeakRssMiB():F0} MiB");

        void Row(Measure measure, string figure, Func<Sample, double> of, string format)
        {
            var ofA = samples["A"][measure].Select(of).ToList();
            var ofB = samples["B"][measure].Select(of).ToList();
            var (medianA, medianB) = (Median(ofA), Median(ofB));
            Console.WriteLine($"| {measure.Name} | {figure} | {medianA.ToString(format)} | {medianB.ToString(format)} | {medianB / medianA:F2} | " +
                              $"{string.Join(" ", ofA.Select(value => value.ToString(format)))} | {string.Join(" ", ofB.Select(value => value.ToString(format)))} |");
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
