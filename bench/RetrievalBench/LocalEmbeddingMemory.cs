using System.Diagnostics;
using AspireLlm.Orchestration.Embeddings;

namespace AspireLlm.RetrievalBench;

/// <summary>
/// What the local embedding model costs a process in memory, and its CPU per call: resident memory (from
/// /proc) before the model loads (the baseline), once loaded, after calls of 64 long texts, and once the
/// model has been idle long enough to give its working memory back; the CPU per text of long calls and of
/// one-line queries. Run first in a fresh process: the model loads once per process.
/// </summary>
internal static class LocalEmbeddingMemory
{
    public static async Task RunAsync()
    {
        var rows = new List<string> { Row("before the model loads (baseline)") };
        LocalMiniLmEmbeddingGenerator.WarmUp();
        rows.Add(Row("model loaded"));

        var generator = new LocalMiniLmEmbeddingGenerator();
        string[] longTexts = [.. Enumerable.Range(0, 64).Select(i => string.Join(' ', Enumerable.Repeat($"chunk {i}: the quick brown fox jumps over the lazy dog", 30)))];
        await generator.GenerateAsync(longTexts);
        rows.Add(Row("after a call of 64 long texts"));

        var longCpu = await CpuPerCallAsync(() => generator.GenerateAsync(longTexts), calls: 3);
        var queryCpu = await CpuPerCallAsync(() => generator.GenerateAsync(["what is the refund policy for annual plans?"]), calls: 200);
        rows.Add(Row("after 3 more such calls and 200 queries"));
        await Task.Delay(LocalMiniLmEmbeddingGenerator.IdleBeforeRelease + TimeSpan.FromSeconds(2));
        rows.Add(Row($"idle {LocalMiniLmEmbeddingGenerator.IdleBeforeRelease.TotalSeconds:F0} s and more"));

        Console.WriteLine("| local embedding model | resident MiB | anonymous MiB | peak MiB |");
        Console.WriteLine("|---|---|---|---|");
        rows.ForEach(Console.WriteLine);
        Console.WriteLine($"CPU: {longCpu / 64:F1} ms per long text (calls of 64); {queryCpu:F2} ms per one-line query");
    }

    private static async Task<double> CpuPerCallAsync(Func<Task> call, int calls)
    {
        var before = Process.GetCurrentProcess().TotalProcessorTime;
        for (var i = 0; i < calls; i++)
        {
            await call();
        }

        return (Process.GetCurrentProcess().TotalProcessorTime - before).TotalMilliseconds / calls;
    }

    private static string Row(string moment)
    {
        var status = File.ReadAllLines("/proc/self/status").Select(line => line.Split(':', 2)).ToDictionary(parts => parts[0], parts => parts.Length > 1 ? parts[1] : "");
        return $"| {moment} | {MiB(status["VmRSS"])} | {MiB(status["RssAnon"])} | {MiB(status["VmHWM"])} |";
    }

    private static long MiB(string kilobytes) => long.Parse(kilobytes.Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) / 1024;
}
