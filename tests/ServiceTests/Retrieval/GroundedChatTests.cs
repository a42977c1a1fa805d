using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AspireLlm.Orchestration.Jobs;
using AspireLlm.Tests.Shared;

namespace AspireLlm.ServiceTests.Retrieval;

/// <summary>Grounded chat: the <c>retrieval</c> field of a chat completion, in the gateway (plain and streamed) and in a chat job.</summary>
public sealed class GroundedChatTests(LocalInfrastructure infrastructure) : RetrievalTest(infrastructure)
{
    [Fact]
    public async Task A_grounded_completion_cites_the_chunks_it_was_given_and_costs_their_tokens()
    {
        using var client = await Api.CreateTenantClientAsync("tenant-grounded");
        var collection = await CreateCollectionAsync(client, "grounded");
        foreach (var document in Corpus.Documents.Where(document => document.Id.StartsWith("api-", StringComparison.Ordinal)))
        {
            await RunIndexJobAsync(await UploadAsync(client, collection, document.Id, document.Text, document.Title));
        }

        var messages = new[] { new { role = "user", content = "What does error E2040 mean?" } };
        using var plain = await client.PostAsJsonAsync("/v1/chat/completions", new { model = "gpt-4o-mini", messages });
        using var grounded = await client.PostAsJsonAsync("/v1/chat/completions", new
        {
            model = "gpt-4o-mini", messages, retrieval = new { collection = collection.ToString(), top_k = 3 },
        });
        Assert.Equal(HttpStatusCode.OK, grounded.StatusCode);
        var body = await grounded.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("ok", body.GetProperty("retrieval").GetProperty("status").GetString());
        var citations = body.GetProperty("citations").EnumerateArray().ToList();
        Assert.Equal(3, citations.Count);
        Assert.Equal("api-errors", citations[0].GetProperty("document_id").GetString());
        Assert.Equal([1, 2, 3], citations.Select(citation => citation.GetProperty("index").GetInt32()));
        // The passages went into the prompt.
        var plainTokens = (await plain.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("usage").GetProperty("prompt_tokens").GetInt32();
        Assert.True(body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32() > plainTokens + 50);

        // Streamed: the citations come in the last event before [DONE].
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = JsonContent.Create(new { model = "gpt-4o-mini", messages, stream = true, retrieval = new { collection = collection.ToString() } }),
        };
        using var streamed = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var events = (await streamed.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("data: [DONE]", events[^1]);
        var last = JsonDocument.Parse(events[^2]["data: ".Length..]).RootElement;
        Assert.Equal(0, last.GetProperty("choices").GetArrayLength());
        Assert.Equal("api-errors", last.GetProperty("citations")[0].GetProperty("document_id").GetString());
    }

    [Fact]
    public async Task A_chat_job_accepts_retrieval_through_the_same_parser_and_its_result_cites()
    {
        using var client = await Api.CreateTenantClientAsync("tenant-w");
        var collection = await CreateCollectionAsync(client, "job grounding");
        await RunIndexJobAsync(await UploadAsync(client, collection, "webhooks", Corpus.Documents.Single(document => document.Id == "api-webhooks").Text));

        using var bad = await client.PostAsJsonAsync("/v1/jobs", new
        {
            kind = "chat.completion",
            input = new { model = "gpt-4o-mini", messages = new[] { new { role = "user", content = "hi" } }, retrieval = new { collection = "x", top_k = 99 } },
        });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("input.retrieval.top_k", await bad.Content.ReadAsStringAsync());

        var jobId = await Worker.CreateJobAsync(new
        {
            model = "gpt-4o-mini",
            messages = new[] { new { role = "user", content = "How do I verify a webhook signature?" } },
            retrieval = new { collection = collection.ToString(), top_k = 2, mode = "lexical" },
        });
        await Worker.ChatJob().RunAsync(jobId, await Worker.DispatchIdAsync(jobId), CancellationToken.None);
        var job = (await Worker.Store.GetAsync(jobId, CancellationToken.None))!;
        Assert.Equal(JobStatus.Completed, job.Status);
        Assert.Equal("webhooks", job.Result!.Value.GetProperty("citations")[0].GetProperty("document_id").GetString());
    }
}

/// <summary>Without a reachable vector index, retrieval still answers from full text and says so.</summary>
public sealed class DegradedRetrievalTests(LocalInfrastructure infrastructure) : RetrievalTest(infrastructure)
{
    protected override string VectorConnectionString => $"127.0.0.1:{LocalInfrastructure.FreePort()},connectTimeout=500,syncTimeout=500,asyncTimeout=500";

    [Fact]
    public async Task Hybrid_search_and_grounded_chat_fall_back_to_full_text_when_the_vector_index_is_down()
    {
        using var client = await Api.CreateTenantClientAsync("tenant-degraded");
        var collection = await CreateCollectionAsync(client, "degraded");
        await RunIndexJobAsync(await UploadAsync(client, collection, "errors", Corpus.Documents.Single(document => document.Id == "api-errors").Text));

        using var response = await client.PostAsJsonAsync($"/v1/collections/{collection}/search", new { query = "E4090 conflict" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(["vector"], body.GetProperty("degraded").EnumerateArray().Select(item => item.GetString()));
        Assert.Contains("E4090", body.GetProperty("data")[0].GetProperty("text").GetString());

        using var chat = await client.PostAsJsonAsync("/v1/chat/completions", new
        {
            model = "gpt-4o-mini",
            messages = new[] { new { role = "user", content = "What does E4090 conflict mean?" } },
            retrieval = new { collection = collection.ToString() },
        });
        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        var retrieval = (await chat.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("retrieval");
        Assert.Equal("ok", retrieval.GetProperty("status").GetString());
        Assert.Contains("vector", retrieval.GetProperty("message").GetString());
    }
}
