extern alias worker;
using AspireLlm.Orchestration.Jobs;
using AspireLlm.Orchestration.Jobs.Events;
using AspireLlm.ServiceTests.Worker;
using AspireLlm.Tests.Shared;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using JobContentPurger = worker::AspireLlm.Worker.Retention.JobContentPurger;
using RetentionOptions = worker::AspireLlm.Worker.Retention.RetentionOptions;

namespace AspireLlm.ServiceTests.AtRest;

/// <summary>The Worker's purge of finished jobs' content after <c>Retention:JobContentDays</c>.</summary>
[Collection(ServiceCollection.Name)]
public sealed class RetentionTests(LocalInfrastructure infrastructure) : IAsyncLifetime
{
    // Long ago, so that no other test's jobs fall before the cutoff.
    private static readonly DateTimeOffset Now = new(2001, 2, 15, 12, 0, 0, TimeSpan.Zero);
    private WorkerHarness _worker = null!;

    public async Task InitializeAsync() => _worker = await WorkerHarness.CreateAsync(infrastructure);

    public async Task DisposeAsync() => await _worker.DisposeAsync();

    [Fact]
    public async Task Jobs_finished_before_the_retention_period_lose_their_content_and_keep_their_ledger_rows()
    {
        var old = await RunChatAsync("old chat", finishedAt: Now.AddDays(-45));
        var oldBatch = await _worker.CreateJobAsync(new { requests = new[] { WorkerHarness.ChatInput("old item") } }, JobKinds.Batch);
        await _worker.BatchJob().RunAsync(oldBatch, await _worker.DispatchIdAsync(oldBatch), CancellationToken.None);
        await FinishedAtAsync(oldBatch, Now.AddDays(-31));
        var recent = await RunChatAsync("recent chat", finishedAt: Now.AddDays(-29));
        var purger = Purger(days: 30);

        var erased = await purger.PurgeDueAsync(CancellationToken.None);
        var erasedAgain = await purger.PurgeDueAsync(CancellationToken.None);

        Assert.Equal((2, 0), (erased, erasedAgain));
        foreach (var id in new[] { old, oldBatch })
        {
            var job = (await _worker.Store.GetAsync(id, CancellationToken.None))!;
            Assert.Equal((JobStatus.Completed, Now), (job.Status, job.ContentErasedAt));
            Assert.Null(job.Result);
            Assert.NotNull(job.Usage);
            Assert.Equal(1, await _worker.CountAsync("SELECT count(*) FROM jobs WHERE id = $1 AND input IS NULL AND result IS NULL", id));
            Assert.Equal(1, await _worker.CountAsync("SELECT count(*) FROM usage_ledger WHERE job_id = $1", id));
            Assert.False(await _worker.Redis.GetDatabase().KeyExistsAsync(JobEventLog.ListKey(id)));
        }

        Assert.Equal(0, await _worker.CountAsync("SELECT count(*) FROM job_items WHERE job_id = $1", oldBatch));
        var kept = (await _worker.Store.GetAsync(recent, CancellationToken.None))!;
        Assert.Null(kept.ContentErasedAt);
        Assert.NotNull(kept.Result);
        Assert.Equal("gpt-4o-mini", kept.Input.GetProperty("model").GetString());
    }

    [Fact]
    public async Task Retention_zero_keeps_content_for_ever()
    {
        var old = await RunChatAsync("kept for ever", finishedAt: Now.AddDays(-1));
        var purger = Purger(days: 0);

        await purger.StartAsync(CancellationToken.None);
        await purger.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(10)); // returns at once: nothing to do, ever
        await purger.StopAsync(CancellationToken.None);

        Assert.NotNull((await _worker.Store.GetAsync(old, CancellationToken.None))!.Result);
    }

    private JobContentPurger Purger(int days) => new(
        _worker.Store, _worker.Events, Options.Create(new RetentionOptions { JobContentDays = days }), new FakeTimeProvider(Now),
        NullLogger<JobContentPurger>.Instance);

    private async Task<Guid> RunChatAsync(string content, DateTimeOffset finishedAt)
    {
        var id = await _worker.CreateJobAsync(WorkerHarness.ChatInput(content));
        await _worker.ChatJob().RunAsync(id, await _worker.DispatchIdAsync(id), CancellationToken.None);
        await FinishedAtAsync(id, finishedAt);
        return id;
    }

    private async Task FinishedAtAsync(Guid id, DateTimeOffset finishedAt)
    {
        await using var command = _worker.DataSource.CreateCommand("UPDATE jobs SET completed_at = $2 WHERE id = $1 AND status = 'completed'");
        command.Parameters.AddWithValue(id);
        command.Parameters.AddWithValue(finishedAt);
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }
}
