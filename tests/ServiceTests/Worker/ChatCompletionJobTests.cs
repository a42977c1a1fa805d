extern alias worker;
using System.Text.Json;
using AspireLlm.Orchestration;
using AspireLlm.Orchestration.Hashing;
using AspireLlm.Orchestration.Jobs;
using AspireLlm.Orchestration.Routing;
using AspireLlm.Orchestration.Simulator;
using AspireLlm.Tests.Shared;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using ChatCompletionJob = worker::AspireLlm.Worker.Jobs.ChatCompletionJob;
using WorkerOptions = worker::AspireLlm.Worker.Jobs.WorkerOptions;

namespace AspireLlm.ServiceTests.Worker;

/// <summary>The job against real Postgres: at-least-once delivery must charge and complete once.</summary>
[Collection(ServiceCollection.Name)]
public sealed class ChatCompletionJobTests(LocalInfrastructure infrastructure) : IAsyncLifetime
{
    private NpgsqlDataSource _dataSource = null!;
    private JobStore _store = null!;

    public Task InitializeAsync()
    {
        _dataSource = NpgsqlDataSource.Create(infrastructure.DatabaseConnectionString);
        _store = new JobStore(_dataSource);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _dataSource.DisposeAsync();

    [Fact]
    public async Task Running_a_job_twice_produces_one_result_and_one_ledger_row()
    {
        var id = await CreateJobAsync("run me twice");
        var job = CreateJob();

        await job.RunAsync(id, CancellationToken.None);
        var first = await _store.GetAsync(id, CancellationToken.None);
        await job.RunAsync(id, CancellationToken.None);
        var second = await _store.GetAsync(id, CancellationToken.None);

        Assert.Equal(JobStatus.Completed, second!.Status);
        Assert.Equal(first!.Result!.Value.GetRawText(), second.Result!.Value.GetRawText());
        Assert.Equal(first.CompletedAt, second.CompletedAt);
        Assert.Equal(1, second.Attempts);
        Assert.Equal(1, await CountLedgerRowsAsync(id));
    }

    [Fact]
    public async Task Concurrent_deliveries_charge_once()
    {
        var id = await CreateJobAsync("race me");

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => CreateJob().RunAsync(id, CancellationToken.None)));

        Assert.Equal(JobStatus.Completed, (await _store.GetAsync(id, CancellationToken.None))!.Status);
        Assert.Equal(1, await CountLedgerRowsAsync(id));
    }

    [Fact]
    public async Task Completed_job_carries_the_simulator_answer_and_usage()
    {
        var id = await CreateJobAsync("Hello there");

        await CreateJob().RunAsync(id, CancellationToken.None);

        var job = (await _store.GetAsync(id, CancellationToken.None))!;
        var result = job.Result!.Value;
        Assert.Equal("chat.completion", result.GetProperty("object").GetString());
        Assert.Equal(SimulatorGolden.HelloThere, result.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal(100, job.Progress);
        Assert.Equal(["accepted", "calling model", "completed"], job.Steps.EnumerateArray().Select(s => s.GetProperty("step").GetString()));
        Assert.Equal(job.Usage!.Value.GetProperty("completion_tokens").GetInt32(), SimulatorGolden.HelloThere.Split(' ').Length);
    }

    [Fact]
    public async Task Job_that_times_out_on_its_last_attempt_is_failed_not_retried()
    {
        var id = await CreateJobAsync("too slow");
        await using (var command = _dataSource.CreateCommand("UPDATE jobs SET attempts = $2 WHERE id = $1"))
        {
            command.Parameters.AddWithValue(id);
            command.Parameters.AddWithValue(IChatCompletionJob.MaxAttempts - 1);
            await command.ExecuteNonQueryAsync();
        }

        var slow = CreateJob(new SimulatorOptions { LatencyMs = 5_000 }, timeoutSeconds: 1);
        await slow.RunAsync(id, CancellationToken.None);

        var job = (await _store.GetAsync(id, CancellationToken.None))!;
        Assert.Equal(JobStatus.Failed, job.Status);
        Assert.Equal("timeout", job.Error!.Value.GetProperty("code").GetString());
        Assert.Equal(0, await CountLedgerRowsAsync(id));
    }

    [Fact]
    public async Task Transient_timeout_before_the_last_attempt_is_rethrown_for_hangfire_to_retry()
    {
        var id = await CreateJobAsync("retry me");
        var slow = CreateJob(new SimulatorOptions { LatencyMs = 5_000 }, timeoutSeconds: 1);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => slow.RunAsync(id, CancellationToken.None));

        var job = (await _store.GetAsync(id, CancellationToken.None))!;
        Assert.Equal(JobStatus.Pending, job.Status);
        Assert.Equal("waiting to retry", job.CurrentStep);
    }

    [Fact]
    public async Task Stranded_rows_are_enqueued_once_by_the_sweep()
    {
        var id = await CreateJobAsync("never enqueued", createdAt: DateTimeOffset.UtcNow.AddMinutes(-1));
        var enqueued = new List<Guid>();

        await _store.DispatchStrandedAsync(DateTimeOffset.UtcNow, (jobId, _) => { enqueued.Add(jobId); return "hf-" + jobId; }, CancellationToken.None);
        await _store.DispatchStrandedAsync(DateTimeOffset.UtcNow, (jobId, _) => { enqueued.Add(jobId); return "hf-" + jobId; }, CancellationToken.None);

        Assert.Single(enqueued, id);
        Assert.Equal("hf-" + id, (await _store.GetAsync(id, CancellationToken.None))!.HangfireJobId);
    }

    private ChatCompletionJob CreateJob(SimulatorOptions? simulator = null, int timeoutSeconds = 60)
    {
        var catalog = new ModelCatalog(Options.Create(new OrchestrationOptions()), Options.Create(simulator ?? new SimulatorOptions()), TimeProvider.System);
        return new ChatCompletionJob(_store, catalog, Options.Create(new WorkerOptions { ChatTimeoutSeconds = timeoutSeconds }),
            TimeProvider.System, NullLogger<ChatCompletionJob>.Instance);
    }

    private async Task<Guid> CreateJobAsync(string content, DateTimeOffset? createdAt = null)
    {
        var keyId = Guid.NewGuid();
        await using (var command = _dataSource.CreateCommand("""
            INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash, created_at) VALUES ($1, 'tenant-w', 'worker test', 'sk-llm-test', $2, now())
            """))
        {
            command.Parameters.AddWithValue(keyId);
            command.Parameters.AddWithValue(keyId.ToByteArray());
            await command.ExecuteNonQueryAsync();
        }

        var input = JsonSerializer.SerializeToElement(new
        {
            model = "gpt-4o-mini",
            messages = new[] { new { role = "user", content } },
            temperature = 0,
        });
        var (job, _) = await _store.CreateAsync(
            new NewJob(Guid.CreateVersion7(), "tenant-w", keyId, JobKinds.ChatCompletion, input, null, CanonicalJson.Hash(input),
                createdAt ?? DateTimeOffset.UtcNow),
            CancellationToken.None);
        return job.Id;
    }

    private async Task<long> CountLedgerRowsAsync(Guid jobId)
    {
        await using var command = _dataSource.CreateCommand("SELECT count(*) FROM usage_ledger WHERE job_id = $1");
        command.Parameters.AddWithValue(jobId);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
