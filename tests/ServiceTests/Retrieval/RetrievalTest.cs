using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AspireLlm.Orchestration.Jobs;
using AspireLlm.ServiceTests.Api;
using AspireLlm.ServiceTests.Worker;
using AspireLlm.Tests.Shared;
using StackExchange.Redis;

namespace AspireLlm.ServiceTests.Retrieval;

/// <summary>
/// The real Api (in-process) with a vector index in Garnet, and the Worker's index job run in-process
/// over the same Postgres, Redis and Garnet, as the Worker runs it.
/// </summary>
[Collection(RetrievalCollection.Name)]
public abstract class RetrievalTest(LocalInfrastructure infrastructure) : IAsyncLifetime
{
    protected LocalInfrastructure Infrastructure => infrastructure;

    protected ApiFactory Api { get; private set; } = null!;

    protected WorkerHarness Worker { get; private set; } = null!;

    protected ConnectionMultiplexer Vectors { get; private set; } = null!;

    /// <summary>Settings of this class's Api beyond the vector index's connection string.</summary>
    protected virtual Dictionary<string, string?> Settings => [];

    /// <summary>Where the Api finds its vector index (a dead address, to test without one).</summary>
    protected virtual string VectorConnectionString => Infrastructure.StartVectorStore();

    public virtual async Task InitializeAsync()
    {
        var vectors = Infrastructure.StartVectorStore();
        Api = new ApiFactory(Infrastructure) { Settings = new(Settings) { ["ConnectionStrings:vectors"] = VectorConnectionString } };
        Worker = await WorkerHarness.CreateAsync(Infrastructure);
        Vectors = await ConnectionMultiplexer.ConnectAsync(vectors);
    }

    public virtual async Task DisposeAsync()
    {
        await Vectors.DisposeAsync();
        await Worker.DisposeAsync();
        await Api.DisposeAsync();
    }

    protected static async Task<Guid> CreateCollectionAsync(HttpClient client, string name, int chunkSize = 240, int overlap = 40)
    {
        using var response = await client.PostAsJsonAsync("/v1/collections", new { name, chunk_size = chunkSize, chunk_overlap = overlap });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    /// <summary>Uploads a document as JSON; returns its index job's id.</summary>
    protected static async Task<Guid> UploadAsync(HttpClient client, Guid collection, string id, string text, string? title = null, string contentType = "text/markdown")
    {
        using var response = await client.PostAsJsonAsync($"/v1/collections/{collection}/documents", new { id, title, text, content_type = contentType });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("job_id").GetGuid();
    }

    /// <summary>Runs an index job as the Worker would (one delivery) and returns it finished.</summary>
    protected async Task<JobRecord> RunIndexJobAsync(Guid jobId)
    {
        await Worker.IndexJob(Vectors).RunAsync(jobId, await Worker.DispatchIdAsync(jobId), CancellationToken.None);
        var job = (await Worker.Store.GetAsync(jobId, CancellationToken.None))!;
        Assert.True(job.Status == JobStatus.Completed, $"index job {jobId} is {job.Status}: {job.Error}");
        return job;
    }

    protected static async Task<List<JsonElement>> SearchAsync(HttpClient client, Guid collection, string query, string mode = "hybrid", int topK = 5)
    {
        using var response = await client.PostAsJsonAsync($"/v1/collections/{collection}/search", new { query, mode, top_k = topK });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("data").EnumerateArray()];
    }

    protected async Task<long> VectorCountAsync(Guid collection)
    {
        var generation = await Worker.CountAsync("SELECT index_generation::bigint FROM collections WHERE id = $1", collection);
        var count = await Vectors.GetDatabase().ExecuteAsync("VCARD", $"aspirellm:vec:v1:{collection:N}:{generation}");
        return count.IsNull ? 0 : (long)count;
    }
}
