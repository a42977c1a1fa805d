using System.Globalization;
using System.Text;
using AspireLlm.Orchestration.Caching;
using AspireLlm.Orchestration.Embeddings;
using Xunit.Abstractions;

namespace AspireLlm.UnitTests.Caching;

/// <summary>
/// The semantic cache's decision (similarity of the real local embeddings, threshold, guard) over the
/// committed labelled set <c>tests/Data/semantic-cache-pairs.tsv</c>: true paraphrases, and near misses
/// of every kind a semantic cache is known to confuse. A false hit serves a wrong answer with
/// confidence, so the target is none at all; recall is what that leaves, reported.
/// </summary>
public sealed class SemanticCacheEvaluationTests(ITestOutputHelper output)
{
    private sealed record Pair(bool Same, string Category, string First, string Second);

    [Fact]
    public async Task The_cache_decision_makes_no_false_hit_on_any_near_miss_and_reports_its_recall()
    {
        var pairs = File.ReadLines(Path.Combine(AppContext.BaseDirectory, "Data", "semantic-cache-pairs.tsv"))
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(line => line.Split('\t'))
            .Select(fields => new Pair(fields[0] == "same", fields[1], fields[2], fields[3]))
            .ToList();
        Assert.True(pairs.Count >= 400, $"the set has {pairs.Count} pairs");
        var similarity = await SimilaritiesAsync(pairs);
        var threshold = new SemanticCacheOptions().Threshold;

        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"{pairs.Count(pair => pair.Same)} paraphrase pairs, {pairs.Count(pair => !pair.Same)} near misses; all-MiniLM-L6-v2 (local).");
        report.AppendLine("| threshold | guard | false hits | precision | recall |");
        report.AppendLine("|---|---|---|---|---|");
        foreach (var candidate in new[] { 0.80, 0.85, 0.88, 0.90, 0.93, 0.96 })
        {
            foreach (var guarded in new[] { false, true })
            {
                var (falseHits, precision, recall) = Score(pairs, similarity, pair =>
                    guarded ? SemanticCache.Accepts(similarity[pair], candidate, pair.First, pair.Second) : similarity[pair] >= candidate);
                report.AppendLine(CultureInfo.InvariantCulture, $"| {candidate:0.00} | {(guarded ? "yes" : "no")} | {falseHits} | {precision:0.000} | {recall:0.000} |");
            }
        }

        report.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"At the default threshold {threshold:0.00}, with the guard:");
        report.AppendLine("| category | pairs | cache hits |");
        report.AppendLine("|---|---|---|");
        foreach (var category in pairs.GroupBy(pair => pair.Category))
        {
            report.AppendLine(CultureInfo.InvariantCulture,
                $"| {category.Key} | {category.Count()} | {category.Count(pair => SemanticCache.Accepts(similarity[pair], threshold, pair.First, pair.Second))} |");
        }

        var (misses, finalPrecision, finalRecall) = Score(pairs, similarity, pair => SemanticCache.Accepts(similarity[pair], threshold, pair.First, pair.Second));
        report.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"precision {finalPrecision:0.000}, recall {finalRecall:0.000}, false hits {misses}");
        foreach (var wrong in pairs.Where(pair => !pair.Same && SemanticCache.Accepts(similarity[pair], threshold, pair.First, pair.Second)))
        {
            report.AppendLine(CultureInfo.InvariantCulture, $"FALSE HIT ({wrong.Category}, {similarity[wrong]:0.000}): {wrong.First} | {wrong.Second}");
        }

        foreach (var missed in pairs.Where(pair => pair.Same && !SemanticCache.Accepts(similarity[pair], threshold, pair.First, pair.Second)))
        {
            report.AppendLine(CultureInfo.InvariantCulture,
                $"missed ({similarity[missed]:0.000}, {SemanticGuard.Difference(missed.First, missed.Second) ?? "below threshold"}): {missed.First} | {missed.Second}");
        }

        output.WriteLine(report.ToString());
        Assert.Equal(0, misses);
        Assert.True(finalRecall >= 0.6, $"recall {finalRecall:0.000} fell below 0.6");
    }

    [Theory]
    [InlineData("Can I get a refund after 30 days?", "Can't I get a refund after 30 days?", "negation")]
    [InlineData("Can I get a refund after 30 days?", "Can I get a refund after thirty days?", null)]
    [InlineData("Is it twenty five dollars?", "Is it $25?", null)]
    [InlineData("How do I enable 2FA?", "How do I disable 2FA?", "opposite")]
    [InlineData("Is seat 14A free?", "Is seat 14C free?", "entity")]
    [InlineData("Is it possible to work from home?", "Is it impossible to work from home?", "opposite")]
    [InlineData("How do I get from the airport to the city?", "What is the way from the airport into the city?", null)]
    [InlineData("Is 30 degrees Celsius hot?", "Is 30 degrees Fahrenheit hot?", "unit")]
    [InlineData("What is the best way to report a bug?", "How do I report a bug?", null)]
    [InlineData("What is the best plan?", "What is the cheapest plan?", "comparative")]
    public void The_guard_reads_what_flips_an_answer(string first, string second, string? difference) =>
        Assert.Equal(difference, SemanticGuard.Difference(first, second));

    private static (int FalseHits, double Precision, double Recall) Score(List<Pair> pairs, Dictionary<Pair, double> similarity, Func<Pair, bool> hit)
    {
        var truePositives = pairs.Count(pair => pair.Same && hit(pair));
        var falsePositives = pairs.Count(pair => !pair.Same && hit(pair));
        var positives = pairs.Count(pair => pair.Same);
        return (falsePositives, truePositives + falsePositives == 0 ? 1 : (double)truePositives / (truePositives + falsePositives), (double)truePositives / positives);
    }

    private static async Task<Dictionary<Pair, double>> SimilaritiesAsync(List<Pair> pairs)
    {
        var texts = pairs.SelectMany(pair => new[] { pair.First, pair.Second }).Distinct().ToList();
        using var generator = new LocalMiniLmEmbeddingGenerator();
        var embeddings = await generator.GenerateAsync(texts);
        var vectors = texts.Zip(embeddings, (text, embedding) => (text, embedding.Vector.ToArray())).ToDictionary(item => item.text, item => item.Item2);
        return pairs.ToDictionary(pair => pair, pair => (double)System.Numerics.Tensors.TensorPrimitives.Dot(vectors[pair.First], vectors[pair.Second]));
    }
}
