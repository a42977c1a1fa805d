using AspireLlm.Orchestration.Jobs;
using AspireLlm.Tests.Shared;

namespace AspireLlm.ServiceTests.Worker;

[Collection(ServiceCollection.Name)]
public sealed class BatchJobTests(LocalInfrastructure infrastructure) : IAsyncLifetime
{
    private WorkerHarness _worker = null!;

    public async Task InitializeAsync() => _worker = await WorkerHarness.CreateAsync(infrastructure);

    public async Task DisposeAsync() => await _worker.DisposeAsync();

    [Fact]
    public async Task Batch_runs_every_item_reports_progress_and_keeps_results_in_order()
    {
        var requests = Enumerable.Range(0, 6).Select(i => WorkerHarness.ChatInput(i == 0 ? "Hello there" : $"item {i}")).ToArray();
        var id = await _worker.CreateJobAsync(new { requests, max_concurrency = 3 }, JobKinds.Batch);

        await _worker.BatchJob().RunAsync(id, await _worker.DispatchIdAsync(id), CancellationToken.None);

        var job = (await _worker.Store.GetAsync(id, CancellationToken.None))!;
        Assert.Equal(JobStatus.Completed, job.Status);
        var result = job.Result!.Value;
        Assert.Equal(6, result.GetProperty("succeeded").GetInt32());
        var items = result.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal([0, 1, 2, 3, 4, 5], items.Select(item => item.GetProperty("index").GetInt32()));
        Assert.Equal(SimulatorGolden.HelloThere,
            items[0].GetProperty("result").GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());

        var progress = (await _worker.Events.ReadAfterAsync(id, 0)).Where(e => e.Json.Contains("\"progress\":"))
            .Select(e => System.Text.Json.JsonDocument.Parse(e.Json).RootElement.GetProperty("progress").GetInt32()).ToList();
        Assert.Equal([16, 33, 50, 66, 83, 100], progress);
        Assert.Equal(1, await _worker.CountAsync("SELECT count(*) FROM usage_ledger WHERE job_id = $1", id));
    }

    [Fact]
    public async Task A_rerun_keeps_finished_items_and_runs_only_the_rest()
    {
        var requests = Enumerable.Range(0, 4).Select(i => WorkerHarness.ChatInput($"resume {i}")).ToArray();
        var id = await _worker.CreateJobAsync(new { requests, max_concurrency = 1 }, JobKinds.Batch);
        // As if a crashed run had finished item 2 with a result we can recognise.
        var marker = System.Text.Json.JsonSerializer.SerializeToElement(new { kept = true });
        await _worker.Store.SaveItemAsync(id, 1, new JobItem(2, JobStatus.Completed, marker, null, 1, 1), DateTimeOffset.UtcNow, CancellationToken.None);

        await _worker.BatchJob().RunAsync(id, await _worker.DispatchIdAsync(id), CancellationToken.None);

        var items = (await _worker.Store.GetAsync(id, CancellationToken.None))!.Result!.Value.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(4, items.Count);
        Assert.True(items[2].GetProperty("result").GetProperty("kept").GetBoolean());
    }
}
