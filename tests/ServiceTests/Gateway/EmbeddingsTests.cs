using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AspireLlm.Api.ApiKeys;
using AspireLlm.Orchestration.Admission;
using AspireLlm.ServiceTests.Api;
using AspireLlm.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;

namespace AspireLlm.ServiceTests.Gateway;

/// <summary><c>/v1/embeddings</c> and <c>/v1/models</c>, served by the simulator, read by the official OpenAI client too.</summary>
[Collection(ServiceCollection.Name)]
public sealed class EmbeddingsTests(LocalInfrastructure infrastructure) : IAsyncLifetime
{
    private readonly ApiFactory _api = new(infrastructure);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task Embeddings_have_OpenAIs_shape_and_equal_texts_embed_equally()
    {
        using var client = await _api.CreateTenantClientAsync("tenant-embed");

        using var response = await client.PostAsJsonAsync("/v1/embeddings", new { model = "text-embedding-3-small", input = new[] { "hello", "world", "hello" } });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("list", body.GetProperty("object").GetString());
        var data = body.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal(3, data.Count);
        // Without a provider key the name is served by the local all-MiniLM-L6-v2: 384 dimensions.
        Assert.Equal(384, data[0].GetProperty("embedding").GetArrayLength());
        Assert.Equal(data[0].GetProperty("embedding").GetRawText(), data[2].GetProperty("embedding").GetRawText());
        Assert.NotEqual(data[0].GetProperty("embedding").GetRawText(), data[1].GetProperty("embedding").GetRawText());
        Assert.True(body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32() > 0);
    }

    [Fact]
    public async Task Without_a_key_embeddings_carry_meaning()
    {
        using var client = await _api.CreateTenantClientAsync("tenant-embed");
        using var response = await client.PostAsJsonAsync("/v1/embeddings", new
        {
            model = "all-minilm-l6-v2",
            input = new[] { "How do I reset my password?", "I forgot my password, how can I change it?", "What is the capital of Peru?" },
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var vectors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("data").EnumerateArray()
            .Select(item => item.GetProperty("embedding").EnumerateArray().Select(value => value.GetSingle()).ToArray()).ToList();
        float Cosine(int a, int b) => vectors[a].Zip(vectors[b], (x, y) => x * y).Sum();
        Assert.True(Cosine(0, 1) > 0.6f, $"paraphrases: {Cosine(0, 1)}");
        Assert.True(Cosine(0, 2) < 0.3f, $"unrelated: {Cosine(0, 2)}");
    }

    [Fact]
    public async Task The_official_OpenAI_client_reads_them_base64_and_with_dimensions()
    {
        var key = ApiKeyFormat.Generate();
        await _api.Services.GetRequiredService<ApiKeyStore>().EnsureAsync(key, "tenant-embed", "sdk", false, CancellationToken.None);
        var client = new OpenAIClient(new ApiKeyCredential(key), new OpenAIClientOptions
        {
            Endpoint = new Uri(_api.Server.BaseAddress, "v1/"),
            Transport = new HttpClientPipelineTransport(_api.CreateClient()),
            RetryPolicy = new ClientRetryPolicy(0),
        }).GetEmbeddingClient("text-embedding-3-small");

        var embedding = await client.GenerateEmbeddingAsync("hello", new OpenAI.Embeddings.EmbeddingGenerationOptions { Dimensions = 64 });

        Assert.Equal(64, embedding.Value.ToFloats().Length);
        Assert.InRange(embedding.Value.ToFloats().ToArray().Sum(v => v * v), 0.99f, 1.01f);
    }

    [Theory]
    [InlineData("""{"model": "text-embedding-3-small"}""", 400, "input")]
    [InlineData("""{"model": "text-embedding-3-small", "input": []}""", 400, "input")]
    [InlineData("""{"model": "text-embedding-3-small", "input": "x", "dimensions": 0}""", 400, "dimensions")]
    [InlineData("""{"model": "text-embedding-3-small", "input": "x", "colour": "red"}""", 400, "colour")]
    [InlineData("""{"model": "text-embedding-9", "input": "x"}""", 404, "model")]
    public async Task Bad_embedding_requests_get_OpenAIs_errors(string json, int status, string param)
    {
        using var client = await _api.CreateTenantClientAsync("tenant-embed");

        using var response = await client.PostAsync("/v1/embeddings", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal(param, (await response.ErrorOf()).GetProperty("param").GetString());
    }

    [Fact]
    public async Task Models_lists_only_what_the_key_may_use()
    {
        using var all = await _api.CreateTenantClientAsync("tenant-models");
        using var limited = await _api.CreateLimitedClientAsync("tenant-models", new KeyLimits(AllowedModels: ["claude-sonnet"]));

        var allIds = (await all.GetFromJsonAsync<JsonElement>("/v1/models")).GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()).ToList();
        var limitedIds = (await limited.GetFromJsonAsync<JsonElement>("/v1/models")).GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()).ToList();

        Assert.Equal(["claude-sonnet", "gpt-4o-mini", "all-minilm-l6-v2", "text-embedding-3-small"], allIds);
        Assert.Equal(["claude-sonnet"], limitedIds);
    }
}
