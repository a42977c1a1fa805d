using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AspireLlm.Tests.Shared;

namespace AspireLlm.ServiceTests.Retrieval;

/// <summary>
/// Full-text search plans with how many chunks hold each word (kept by triggers on the chunks): a word too
/// common for the budget only ranks, it does not match. Here the budget is 10 chunks.
/// </summary>
public sealed class LexicalSearchTests(LocalInfrastructure infrastructure) : RetrievalTest(infrastructure)
{
    private const int Budget = 10;

    protected override Dictionary<string, string?> Settings => new() { ["Retrieval:MaxLexicalCandidates"] = $"{Budget}" };

    [Fact]
    public async Task A_common_word_only_ranks_what_the_rare_ones_match_and_the_counts_follow_every_chunk_change()
    {
        using var client = await Api.CreateTenantClientAsync("tenant-lexical");
        var collection = await CreateCollectionAsync(client, "herd", chunkSize: 100, overlap: 0);
        var herd = string.Join("\n\n", Enumerable.Range(0, 40).Select(i => i == 17
            ? $"Paragraph {i}: the llama and an alpaca graze together."
            : $"Paragraph {i}: a llama grazes on the hill."));
        await RunIndexJobAsync(await UploadAsync(client, collection, "herd", herd, contentType: "text/plain"));
        var chunks = await Worker.CountAsync("SELECT count(*) FROM collection_chunks WHERE collection_id = $1", collection);
        Assert.True(chunks > Budget, $"{chunks} chunks: every one holds 'llama', which must be over the budget");
        await AssertCountsMatchTheChunksAsync(client, collection);

        // Without pruning, every chunk would match 'llama'; with it, only the alpaca's chunk matches.
        var both = await SearchAsync(client, collection, "llama alpaca", "lexical", topK: 50);
        Assert.Contains("alpaca", Assert.Single(both).GetProperty("text").GetString());

        // Only common words: all of them must match, and no more than the budget is ranked.
        Assert.Equal(Budget, (await SearchAsync(client, collection, "llama", "lexical", topK: 50)).Count);
        Assert.Equal(Budget, (await SearchAsync(client, collection, "llama hill", "lexical", topK: 50)).Count);

        // Common words that never meet: the rarest alone is matched instead of nothing.
        var meadow = string.Join("\n\n", Enumerable.Range(0, 40).Select(i => $"Field {i}: a goat grazes in the meadow."));
        await RunIndexJobAsync(await UploadAsync(client, collection, "meadow", meadow, contentType: "text/plain"));
        Assert.Equal(Budget, (await SearchAsync(client, collection, "llama goat", "lexical", topK: 50)).Count);

        // A new version, a second document, a deleted document: the counts follow each.
        await RunIndexJobAsync(await UploadAsync(client, collection, "herd", "The alpaca herd moved to the valley.\n\nA llama followed.", contentType: "text/plain"));
        await AssertCountsMatchTheChunksAsync(client, collection);
        await RunIndexJobAsync(await UploadAsync(client, collection, "notes", herd, contentType: "text/plain"));
        await AssertCountsMatchTheChunksAsync(client, collection);
        using (var deleted = await client.DeleteAsync($"/v1/collections/{collection}/documents/herd"))
        {
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        }

        await AssertCountsMatchTheChunksAsync(client, collection);
        Assert.Contains("alpaca", Assert.Single(await SearchAsync(client, collection, "llama alpaca", "lexical", topK: 50)).GetProperty("text").GetString());

        // Deleting the collection takes its counts with it.
        using (var dropped = await client.DeleteAsync($"/v1/collections/{collection}"))
        {
            Assert.Equal(HttpStatusCode.OK, dropped.StatusCode);
        }

        Assert.Equal(0, await Worker.CountAsync("SELECT count(*) FROM collection_lexemes WHERE collection_id = $1", collection));
    }

    /// <summary>The kept counts equal a recount from the chunks themselves, and the collection reports its chunks.</summary>
    private async Task AssertCountsMatchTheChunksAsync(HttpClient client, Guid collection)
    {
        Assert.True(await Worker.CountAsync("SELECT count(*) FROM collection_lexemes WHERE collection_id = $1 AND chunks > 0", collection) > 0);
        Assert.Equal(0, await Worker.CountAsync("""
            SELECT count(*) FROM (
                SELECT l.lexeme, count(*) AS chunks FROM collection_chunks k, unnest(tsvector_to_array(k.lexemes)) AS l (lexeme)
                WHERE k.collection_id = $1 GROUP BY l.lexeme) AS recounted
            FULL JOIN (SELECT lexeme, chunks FROM collection_lexemes WHERE collection_id = $1 AND chunks <> 0) AS kept USING (lexeme)
            WHERE recounted.chunks IS DISTINCT FROM kept.chunks
            """, collection));
        var chunks = await Worker.CountAsync("SELECT count(*) FROM collection_chunks WHERE collection_id = $1", collection);
        var reported = await client.GetFromJsonAsync<JsonElement>($"/v1/collections/{collection}");
        Assert.Equal(chunks, reported.GetProperty("chunks").GetInt64());
    }
}
