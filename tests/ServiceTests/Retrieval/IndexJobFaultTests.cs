using System.Net.Http.Json;
using AspireLlm.Orchestration.Jobs;
using AspireLlm.Orchestration.Retrieval;
using AspireLlm.Tests.Shared;
using Xunit.Abstractions;

namespace AspireLlm.ServiceTests.Retrieval;

/// <summary>An index job whose Worker is killed while it embeds is finished by another Worker, with no chunk twice.</summary>
public sealed class IndexJobFaultTests(LocalInfrastructure infrastructure, ITestOutputHelper output) : RetrievalTest(infrastructure)
{
    [Fact]
    public async Task An_index_job_killed_mid_way_is_resumed_by_another_worker_with_no_duplicate_chunks()
    {
        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings:vectors"] = Infrastructure.StartVectorStore(),
            ["Worker:InvisibilityTimeoutSeconds"] = "10",
        };
        using var client = await Api.CreateTenantClientAsync("tenant-index-fault");
        var collection = await CreateCollectionAsync(client, "fault", chunkSize: 100, overlap: 0);
        var text = string.Join("\n\n", Corpus.Documents.Select(document => document.Text));
        var expected = Chunker.Split(text, Chunker.Markdown, 100, 0).Count;
        var jobId = await UploadAsync(client, collection, "everything", text);

        using (var doomed = ServiceProcess.Start("Worker", Infrastructure, settings))
        {
            // Killed once it has embedded (and cached) a batch or more, and before it commits any chunk.
            await WaitForAsync(jobId, job => job.Status == JobStatus.Processing && job.Progress is > 10 and < 90, TimeSpan.FromSeconds(60), doomed);
            doomed.Signal("KILL");
            Assert.True(await doomed.WaitForExitAsync(TimeSpan.FromSeconds(5)));
        }

        Assert.Equal(0, await Worker.CountAsync("SELECT count(*) FROM collection_chunks WHERE collection_id = $1", collection));
        using var survivor = ServiceProcess.Start("Worker", Infrastructure, settings);
        var finished = await WaitForAsync(jobId, job => job.Status == JobStatus.Completed, TimeSpan.FromSeconds(120), survivor);
        Assert.Equal(2, finished.Attempts);
        var result = finished.Result!.Value;
        Assert.Equal(expected, result.GetProperty("chunks").GetInt32());
        // The batches the killed worker embedded came back from the embedding cache, not the model.
        Assert.True(result.GetProperty("embedded").GetInt32() < expected, $"embedded {result.GetProperty("embedded")} of {expected}");

        Assert.Equal(expected, await Worker.CountAsync("SELECT count(*) FROM collection_chunks WHERE collection_id = $1", collection));
        Assert.Equal(expected, await Worker.CountAsync("SELECT count(DISTINCT position) FROM collection_chunks WHERE collection_id = $1", collection));
        Assert.Equal(expected, await VectorCountAsync(collection));
        var found = await SearchAsync(client, collection, "How do I rotate an API key without downtime?");
        Assert.Equal("everything", found[0].GetProperty("document_id").GetString());
    }

    private async Task<JobRecord> WaitForAsync(Guid id, Func<JobRecord, bool> condition, TimeSpan timeout, ServiceProcess worker)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var job = (await Worker.Store.GetAsync(id, CancellationToken.None))!;
            if (condition(job))
            {
                return job;
            }

            if (DateTime.UtcNow > deadline || worker.HasExited)
            {
                output.WriteLine(worker.Output);
                Assert.Fail($"Job {id} is {job.Status} ({job.Progress}%) on {job.Worker}; the expected state was not reached (worker exited: {worker.HasExited}).");
            }

            await Task.Delay(50);
        }
    }
}
