using AspireLlm.Orchestration.Jobs;
using AspireLlm.Orchestration.Simulator;
using AspireLlm.Tests.Shared;

namespace AspireLlm.ServiceTests.Worker;

/// <summary>The job against real Postgres and Redis: at-least-once delivery must charge and complete once.</summary>
[Collection(ServiceCollection.Name)]
public sealed class ChatCompletionJobTests(LocalInfrastructure infrastructure) : IAsyncLifetime
{
    private const string LedgerRows = "SELECT count(*) FROM usage_ledger WHERE job_id = $1";
    private WorkerHarness _worker = null!;

    public async Task InitializeAsync() => _worker = await WorkerHarness.CreateAsync(infrastructure);

    public async Task DisposeAsync() => await _worker.DisposeAsync();

    [Fact]
    public async Task Running_a_job_twice_produces_one_result_and_one_ledger_row()
    {
        var id = await _worker.CreateJobAsync(WorkerHarness.ChatInput("run me twice"));
        var job = _worker.ChatJob();

        await job.RunAsync(id, await _worker.DispatchIdAsync(id), CancellationToken.None);
        var first = await _worker.Store.GetAsync(id, CancellationToken.None);
        await job.RunAsync(id, await _worker.DispatchIdAsync(id), CancellationToken.None);
        var second = await _worker.Store.GetAsync(id, CancellationToken.None);

        Assert.Equal(JobStatus.Completed, second!.Status);
        Assert.Equal(first!.Result!.Value.GetRawText(), second.Result!.Value.GetRawText());
        Assert.Equal(first.CompletedAt, second.CompletedAt);
        Assert.Equal(1, second.Attempts);
        Assert.Equal(1, await _worker.CountAsync(LedgerRows, id));
    }

    [Fact]
    public async Task A_job_whose_key_was_revoked_before_it_started_fails_without_a_model_call()
    {
        var keyId = await _worker.CreateKeyAsync();
        var id = await _worker.CreateJobAsync(WorkerHarness.ChatInput("submitted just before the revocation"), keyId: keyId.ToString());
        await _worker.CountAsync("WITH updated AS (UPDATE api_keys SET revoked_at = now() WHERE id = $1 RETURNING 1) SELECT count(*) FROM updated", keyId);

        await _worker.ChatJob().RunAsync(id, await _worker.DispatchIdAsync(id), CancellationToken.None);

        var job = (await _worker.Store.GetAsync(id, CancellationToken.None))!;
        Assert.Equal(JobStatus.Failed, job.Status);
        Assert.Equal("key_revoked", job.Error!.Value.GetProperty("code").GetString());
        Assert.Equal(0, await _worker.CountAsync(LedgerRows, id));
    }

    [Fact]
    public async Task A_job_is_charged_to_its_keys_budget_and_refused_once_the_budget_is_spent()
    {
        var keyId = await _worker.CreateKeyAsync();
        await _worker.CountAsync("WITH updated AS (UPDATE api_keys SET daily_token_budget = 120 WHERE id = $1 RETURNING 1) SELECT count(*) FROM updated", keyId);
        var first = await _worker.CreateJobAsync(WorkerHarness.ChatInput("within budget"), keyId: keyId.ToString());
        var second = await _worker.CreateJobAsync(WorkerHarness.ChatInput("over budget"), keyId: keyId.ToString());

        // With no max_tokens the worst case is the prompt plus gpt-4o-mini's 16 384 output tokens, far over
        // 120: the job is refused before any provider call, and nothing is charged.
        await _worker.ChatJob(enforceLimits: true).RunAsync(first, await _worker.DispatchIdAsync(first), CancellationToken.None);
        var refused = (await _worker.Store.GetAsync(first, CancellationToken.None))!;

        Assert.Equal(JobStatus.Failed, refused.Status);
        Assert.Equal("insufficient_quota", refused.Error!.Value.GetProperty("code").GetString());
        Assert.Equal(0, await _worker.CountAsync(LedgerRows, first));

        await _worker.CountAsync("WITH updated AS (UPDATE api_keys SET daily_token_budget = 100000 WHERE id = $1 RETURNING 1) SELECT count(*) FROM updated", keyId);
        await _worker.ChatJob(enforceLimits: true).RunAsync(second, await _worker.DispatchIdAsync(second), CancellationToken.None);
        var admitted = (await _worker.Store.GetAsync(second, CancellationToken.None))!;
        var spent = (long)await _worker.Redis.GetDatabase().HashGetAsync($"aspirellm:budget:key:{keyId:N}:tokens:d:{DateTime.UtcNow:yyyyMMdd}", "spent");

        Assert.Equal(JobStatus.Completed, admitted.Status);
        Assert.InRange(spent, 5, 60); // the real usage, not the worst case reserved
    }

    [Fact]
    public async Task Concurrent_deliveries_charge_once()
    {
        var id = await _worker.CreateJobAsync(WorkerHarness.ChatInput("race me"));
        var dispatchId = await _worker.DispatchIdAsync(id);

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => _worker.ChatJob().RunAsync(id, dispatchId, CancellationToken.None)));

        Assert.Equal(JobStatus.Completed, (await _worker.Store.GetAsync(id, CancellationToken.None))!.Status);
        Assert.Equal(1, await _worker.CountAsync(LedgerRows, id));
    }

    [Fact]
    public async Task A_stale_dispatch_starts_nothing()
    {
        var id = await _worker.CreateJobAsync(WorkerHarness.ChatInput("fenced"));
        await _worker.DispatchIdAsync(id);

        await _worker.ChatJob().RunAsync(id, Guid.NewGuid(), CancellationToken.None);

        var job = (await _worker.Store.GetAsync(id, CancellationToken.None))!;
        Assert.Equal(JobStatus.Pending, job.Status);
        Assert.Equal(0, job.Attempts);
    }

    [Fact]
    public async Task A_job_with_no_live_run_is_dispatched_again_and_the_old_dispatch_is_fenced_off()
    {
        var id = await _worker.CreateJobAsync(WorkerHarness.ChatInput("lost run"));
        var oldDispatch = await _worker.DispatchIdAsync(id);
        await using (var command = _worker.DataSource.CreateCommand(
            "UPDATE jobs SET status = 'processing', updated_at = now() - interval '1 hour' WHERE id = $1"))
        {
            command.Parameters.AddWithValue(id);
            await command.ExecuteNonQueryAsync();
        }

        var now = DateTimeOffset.UtcNow;
        Assert.True(await _worker.Store.ReleaseStaleAsync(JobKinds.ChatCompletion, now.AddMinutes(-15), now.AddMinutes(-5), now, CancellationToken.None) >= 1);
        Guid? newDispatch = null;
        await _worker.Store.DispatchPendingAsync((jobId, dispatchId, _) =>
        {
            if (jobId == id)
            {
                newDispatch = dispatchId;
            }

            return "hf-" + dispatchId;
        }, CancellationToken.None);

        Assert.NotNull(newDispatch);
        await _worker.ChatJob().RunAsync(id, oldDispatch, CancellationToken.None);
        Assert.Equal(JobStatus.Processing, (await _worker.Store.GetAsync(id, CancellationToken.None))!.Status);
        await _worker.ChatJob().RunAsync(id, newDispatch!.Value, CancellationToken.None);
        Assert.Equal(JobStatus.Completed, (await _worker.Store.GetAsync(id, CancellationToken.None))!.Status);
        Assert.Equal(1, await _worker.CountAsync(LedgerRows, id));
    }

    [Fact]
    public async Task A_fetched_job_that_never_started_is_dispatched_again_within_minutes_not_after_the_pending_sweep()
    {
        var id = await _worker.CreateJobAsync(WorkerHarness.ChatInput("fetched, never started"));
        await _worker.DispatchIdAsync(id);
        // A real Hangfire job still Enqueued whose queue entry a worker fetched (and keeps alive) but never ran.
        var hangfireId = await _worker.QueueInHangfireAsync(id, fetched: true, age: TimeSpan.FromMinutes(2));

        var now = DateTimeOffset.UtcNow;
        Assert.True(await _worker.Store.ReleaseStaleAsync(JobKinds.ChatCompletion, now.AddMinutes(-15), now.AddMinutes(-5), now, CancellationToken.None) >= 1);

        Assert.Equal(0, await _worker.CountAsync("SELECT count(*) FROM hangfire.jobqueue WHERE jobid = $1", hangfireId));
        var dispatched = new List<Guid>();
        await _worker.Store.DispatchPendingAsync((jobId, dispatchId, _) =>
        {
            dispatched.Add(jobId);
            return "hf-" + dispatchId;
        }, CancellationToken.None);
        Assert.Contains(id, dispatched);
    }

    [Fact]
    public async Task A_queued_job_not_yet_fetched_is_left_alone_however_long_it_waits()
    {
        var id = await _worker.CreateJobAsync(WorkerHarness.ChatInput("waiting in a long queue"));
        await _worker.DispatchIdAsync(id);
        var hangfireId = await _worker.QueueInHangfireAsync(id, fetched: false, age: TimeSpan.FromMinutes(5));

        var now = DateTimeOffset.UtcNow;
        await _worker.Store.ReleaseStaleAsync(JobKinds.ChatCompletion, now.AddMinutes(-15), now.AddMinutes(-5), now, CancellationToken.None);

        Assert.Equal(1, await _worker.CountAsync("SELECT count(*) FROM hangfire.jobqueue WHERE jobid = $1", hangfireId));
        Assert.Equal(hangfireId.ToString(System.Globalization.CultureInfo.InvariantCulture), (await _worker.Store.GetAsync(id, CancellationToken.None))!.HangfireJobId);
    }

    [Fact]
    public async Task Completed_job_carries_the_simulator_answer_usage_and_its_events()
    {
        var id = await _worker.CreateJobAsync(WorkerHarness.ChatInput("Hello there"));

        await _worker.ChatJob().RunAsync(id, await _worker.DispatchIdAsync(id), CancellationToken.None);

        var job = (await _worker.Store.GetAsync(id, CancellationToken.None))!;
        var result = job.Result!.Value;
        Assert.Equal("chat.completion", result.GetProperty("object").GetString());
        Assert.Equal(SimulatorGolden.HelloThere, result.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal(100, job.Progress);
        Assert.Equal(["accepted", "running", "completed"], job.Steps.EnumerateArray().Select(s => s.GetProperty("step").GetString()));
        Assert.Equal(job.Usage!.Value.GetProperty("completion_tokens").GetInt32(), SimulatorGolden.HelloThere.Split(' ').Length);

        var events = await _worker.Events.ReadAfterAsync(id, 0);
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Id));
        Assert.Contains("\"processing\"", events[0].Json);
        Assert.Contains("\"completed\"", events[^1].Json);
        var tokens = events.Where(e => e.Json.Contains("\"token\"")).Select(e => System.Text.Json.JsonDocument.Parse(e.Json).RootElement.GetProperty("text").GetString());
        Assert.Equal(SimulatorGolden.HelloThere, string.Concat(tokens));
    }

    [Fact]
    public async Task Job_that_times_out_on_its_last_attempt_is_failed_not_retried()
    {
        var id = await _worker.CreateJobAsync(WorkerHarness.ChatInput("too slow"));
        await using (var command = _worker.DataSource.CreateCommand("UPDATE jobs SET attempts = $2 WHERE id = $1"))
        {
            command.Parameters.AddWithValue(id);
            command.Parameters.AddWithValue(IChatCompletionJob.MaxAttempts - 1);
            await command.ExecuteNonQueryAsync();
        }

        await _worker.ChatJob(new SimulatorOptions { LatencyMs = 5_000 }, timeoutSeconds: 1).RunAsync(id, await _worker.DispatchIdAsync(id), CancellationToken.None);

        var job = (await _worker.Store.GetAsync(id, CancellationToken.None))!;
        Assert.Equal(JobStatus.Failed, job.Status);
        Assert.Equal("timeout", job.Error!.Value.GetProperty("code").GetString());
        Assert.Equal(0, await _worker.CountAsync(LedgerRows, id));
    }

    [Fact]
    public async Task Transient_timeout_before_the_last_attempt_waits_for_the_dispatcher_to_run_it_again()
    {
        var id = await _worker.CreateJobAsync(WorkerHarness.ChatInput("retry me"));
        var dispatchId = await _worker.DispatchIdAsync(id);
        var before = DateTimeOffset.UtcNow;

        // Not rethrown into Hangfire's retry: the job is handed back to our dispatcher with a backoff.
        await _worker.ChatJob(new SimulatorOptions { LatencyMs = 5_000 }, timeoutSeconds: 1).RunAsync(id, dispatchId, CancellationToken.None);

        var job = (await _worker.Store.GetAsync(id, CancellationToken.None))!;
        Assert.Equal(JobStatus.Pending, job.Status);
        Assert.Null(job.HangfireJobId);
        Assert.StartsWith("waiting for a retry until ", job.CurrentStep, StringComparison.Ordinal);
        var wait = job.Steps.EnumerateArray().Last();
        Assert.InRange(wait.GetProperty("until").GetDateTimeOffset(), before.AddSeconds(2), DateTimeOffset.UtcNow.AddSeconds(3));
        Assert.Equal(0, await _worker.CountAsync(
            "SELECT count(*) FROM jobs WHERE id = $1 AND hangfire_job_id IS NULL AND (not_before IS NULL OR not_before <= now())", id));
    }

    [Fact]
    public async Task Cancelling_a_running_job_stops_it_and_charges_what_it_used()
    {
        var id = await _worker.CreateJobAsync(WorkerHarness.ChatInput("cancel me midway"));
        var run = _worker.ChatJob(new SimulatorOptions { TokensPerSecond = 20 }).RunAsync(id, await _worker.DispatchIdAsync(id), CancellationToken.None);
        await WaitUntilAsync(async () => (await _worker.Events.ReadAfterAsync(id, 0)).Count(e => e.Json.Contains("\"token\"")) >= 3);

        Assert.True(_worker.Running.Cancel(id));
        await run.WaitAsync(TimeSpan.FromSeconds(5));

        var job = (await _worker.Store.GetAsync(id, CancellationToken.None))!;
        Assert.Equal(JobStatus.Cancelled, job.Status);
        Assert.InRange(job.Usage!.Value.GetProperty("completion_tokens").GetInt32(), 3, 23);
        Assert.Equal(1, await _worker.CountAsync(LedgerRows, id));
        Assert.Contains("\"cancelled\"", (await _worker.Events.ReadAfterAsync(id, 0))[^1].Json);
    }

    [Fact]
    public async Task Pending_rows_are_dispatched_once()
    {
        var id = await _worker.CreateJobAsync(WorkerHarness.ChatInput("dispatch me"), createdAt: DateTimeOffset.UtcNow.AddMinutes(-1));
        var enqueued = new List<Guid>();

        await _worker.Store.DispatchPendingAsync((jobId, _, _) => { enqueued.Add(jobId); return "hf-" + jobId; }, CancellationToken.None);
        await _worker.Store.DispatchPendingAsync((jobId, _, _) => { enqueued.Add(jobId); return "hf-" + jobId; }, CancellationToken.None);

        Assert.Single(enqueued, id);
        Assert.NotNull((await _worker.Store.GetAsync(id, CancellationToken.None))!.DispatchId);
        Assert.Equal("hf-" + id, (await _worker.Store.GetAsync(id, CancellationToken.None))!.HangfireJobId);
    }

    internal static async Task WaitUntilAsync(Func<Task<bool>> condition, int timeoutSeconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not become true in time");
            await Task.Delay(20);
        }
    }
}
