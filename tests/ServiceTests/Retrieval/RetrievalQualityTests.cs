using System.Globalization;
using System.Text;
using AspireLlm.Tests.Shared;
using Xunit.Abstractions;

namespace AspireLlm.ServiceTests.Retrieval;

/// <summary>
/// Retrieval quality on the committed corpus (31 documents of a product knowledge base, chunked small so
/// there are a couple of hundred chunks) and its 106 labelled queries (paraphrases that share few words with the text, and identifiers, codes and names that embeddings blur): hit@5 and MRR of the document that
/// answers each query, for vector, lexical and hybrid search, through the Api against real Postgres and Garnet.
/// </summary>
public sealed class RetrievalQualityTests(LocalInfrastructure infrastructure, ITestOutputHelper output) : RetrievalTest(infrastructure)
{
    [Fact]
    public async Task Hybrid_search_is_at_least_as_good_as_the_better_of_vector_and_lexical()
    {
        using var client = await Api.CreateTenantClientAsync("tenant-quality");
        var collection = await CreateCollectionAsync(client, "knowledge base", chunkSize: 200, overlap: 40);
        foreach (var document in Corpus.Documents)
        {
            await RunIndexJobAsync(await UploadAsync(client, collection, document.Id, document.Text, document.Title));
        }

        var chunks = await Worker.CountAsync("SELECT count(*) FROM collection_chunks WHERE collection_id = $1", collection);
        Assert.True(chunks >= 150, $"{chunks} chunks");
        Assert.Equal(chunks, await VectorCountAsync(collection));

        var report = new StringBuilder().AppendLine(CultureInfo.InvariantCulture, $"{Corpus.Documents.Count} documents, {chunks} chunks, {Corpus.Queries.Count} queries");
        report.AppendLine("| mode | hit@5 | MRR |").AppendLine("|---|---|---|");
        var scores = new Dictionary<string, (double Hit, double Mrr)>();
        foreach (var mode in new[] { "vector", "lexical", "hybrid" })
        {
            double hits = 0, reciprocal = 0;
            foreach (var query in Corpus.Queries)
            {
                var found = await SearchAsync(client, collection, query.Text, mode, topK: 5);
                var rank = found.FindIndex(hit => hit.GetProperty("document_id").GetString() == query.DocumentId);
                if (rank >= 0)
                {
                    hits++;
                    reciprocal += 1.0 / (rank + 1);
                }
                else
                {
                    output.WriteLine($"{mode} missed: {query.Text} ({query.DocumentId})");
                }
            }

            scores[mode] = (hits / Corpus.Queries.Count, reciprocal / Corpus.Queries.Count);
            report.AppendLine(CultureInfo.InvariantCulture, $"| {mode} | {scores[mode].Hit:0.000} | {scores[mode].Mrr:0.000} |");
        }

        output.WriteLine(report.ToString());
        Assert.True(scores["hybrid"].Hit >= Math.Max(scores["vector"].Hit, scores["lexical"].Hit), report.ToString());
        Assert.True(scores["hybrid"].Mrr >= Math.Max(scores["vector"].Mrr, scores["lexical"].Mrr), report.ToString());
    }
}
