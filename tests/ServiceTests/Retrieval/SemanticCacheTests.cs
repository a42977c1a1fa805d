using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AspireLlm.Tests.Shared;
using StackExchange.Redis;

namespace AspireLlm.ServiceTests.Retrieval;

/// <summary>
/// The semantic cache in the gateway, over Garnet's vector sets and the local embedding model: an alias
/// with <c>Cache: Semantic</c> answers a paraphrase from the stored answer, refuses near misses, is
/// scoped to the tenant and to everything else in the request, and every completion says what the
/// caches did in <c>x-cache-status</c>.
/// </summary>
public sealed class SemanticCacheTests(LocalInfrastructure infrastructure) : RetrievalTest(infrastructure)
{
    protected override Dictionary<string, string?> Settings => new()
    {
        ["Orchestration:Deployments:sim:Provider"] = "simulator",
        ["Orchestration:Deployments:sim:Model"] = "sim-gpt-4o-mini",
        ["Orchestration:Models:gpt-4o-mini:Groups:0:Deployments:0"] = "sim",
        ["Orchestration:Models:faq:Groups:0:Deployments:0"] = "sim",
        ["Orchestration:Models:faq:Cache"] = "Semantic",
    };

    [Fact]
    public async Task A_paraphrase_is_answered_from_the_cache_and_near_misses_are_not()
    {
        using var client = await Api.CreateTenantClientAsync("tenant-faq");
        var (status, first, _) = await AskAsync(client, "How do I reset my password?");
        Assert.Equal("MISS", status);
        await WaitForEntriesAsync(1);

        var (paraphraseStatus, paraphrase, usage) = await AskAsync(client, "What's the way to reset my password?");
        Assert.Equal("SEMANTIC_HIT", paraphraseStatus);
        Assert.Equal(first, paraphrase);
        Assert.Equal("semantic", usage.GetProperty("cache_hit").GetString());

        // Near misses go to the model (and are stored as questions of their own).
        foreach (var nearMiss in new[] { "Can't I reset my password?", "How do I reset my router?", "How do I reset my password in 2 steps?" })
        {
            var (nearStatus, answer, _) = await AskAsync(client, nearMiss);
            Assert.True(nearStatus == "MISS", $"{nearMiss}: {nearStatus}");
            Assert.NotEqual(first, answer);
        }

        // The same question again is the exact cache's.
        Assert.Equal("HIT", (await AskAsync(client, "How do I reset my password?")).Status);

        // Another tenant, another system prompt, or a second turn: not the same scope, or not eligible.
        using var stranger = await Api.CreateTenantClientAsync("tenant-faq-other");
        Assert.Equal("MISS", (await AskAsync(stranger, "What's the way to reset my password?")).Status);
        Assert.Equal("MISS", (await AskAsync(client, "What's the way to reset my password?", system: "Answer in French.")).Status);
        Assert.Equal("MISS", (await AskAsync(client, "What's the way to reset my password?", earlierTurn: true)).Status);

        // Streamed, a hit is replayed as a stream.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = JsonContent.Create(new { model = "faq", stream = true, messages = new[] { new { role = "user", content = "What is the way to reset my password?" } } }),
        };
        using var streamed = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("SEMANTIC_HIT", streamed.Headers.GetValues("x-cache-status").Single());
        var text = string.Concat((await streamed.Content.ReadAsStringAsync()).Split("\n\n")
            .Where(line => line.StartsWith("data: {", StringComparison.Ordinal))
            .Select(line => JsonDocument.Parse(line[6..]).RootElement.GetProperty("choices"))
            .Where(choices => choices.GetArrayLength() > 0 && choices[0].GetProperty("delta").TryGetProperty("content", out _))
            .Select(choices => choices[0].GetProperty("delta").GetProperty("content").GetString()));
        Assert.Equal(first, text);
    }

    [Fact]
    public async Task Every_completion_says_what_the_caches_did()
    {
        using var client = await Api.CreateTenantClientAsync("tenant-status");
        var messages = new[] { new { role = "user", content = "Tell me about caching headers" } };
        async Task<string> StatusAsync(object body)
        {
            using var response = await client.PostAsJsonAsync("/v1/chat/completions", body);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return response.Headers.GetValues("x-cache-status").Single();
        }

        // Not deterministic, and the alias caches deterministic requests only: not eligible.
        Assert.Equal("BYPASS", await StatusAsync(new { model = "gpt-4o-mini", messages, temperature = 1 }));
        Assert.Equal("MISS", await StatusAsync(new { model = "gpt-4o-mini", messages, temperature = 0 }));
        Assert.Equal("HIT", await StatusAsync(new { model = "gpt-4o-mini", messages, temperature = 0 }));
    }

    private async Task<(string Status, string Answer, JsonElement Usage)> AskAsync(HttpClient client, string question, string? system = null, bool earlierTurn = false)
    {
        var messages = new List<object>();
        if (system is not null)
        {
            messages.Add(new { role = "system", content = system });
        }

        if (earlierTurn)
        {
            messages.Add(new { role = "user", content = "Hello" });
            messages.Add(new { role = "assistant", content = "Hi, how can I help?" });
        }

        messages.Add(new { role = "user", content = question });
        using var response = await client.PostAsJsonAsync("/v1/chat/completions", new { model = "faq", messages });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var status = response.Headers.GetValues("x-cache-status").Single();
        if (status == "MISS")
        {
            // Stored without waiting: let it land before the next question.
            await Task.Delay(300);
        }

        return (status, body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!, body.GetProperty("usage"));
    }

    private async Task WaitForEntriesAsync(int count)
    {
        var server = Vectors.GetServers()[0];
        for (var i = 0; i < 100; i++)
        {
            if (server.Keys(pattern: "aspirellm:scache:v1:entry:*").Count() >= count)
            {
                return;
            }

            await Task.Delay(50);
        }

        Assert.Fail("the semantic cache stored nothing");
    }
}
