using System.Net;
using AspireLlm.Orchestration.Jobs;
using AspireLlm.ServiceTests.Api;
using AspireLlm.ServiceTests.Worker;
using AspireLlm.Tests.Shared;
using Xunit.Abstractions;

namespace AspireLlm.ServiceTests.Faults;

/// <summary>
/// A worker killed with SIGKILL mid-job loses nothing and its effects happen once; a worker stopped
/// with SIGTERM drains, requeues what it cannot finish, and exits 0.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class WorkerFaultTests(LocalInfrastructure infrastructure, ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>"Hello there" is 22 tokens; at 5 tokens/s a run takes about 4.5 s.</summary>
    private static readonly Dictionary<string, string> SlowWorker = new()
    {
        ["Orchestration:Simulator:TokensPerSecond"] = "5",
        ["Worker:InvisibilityTimeoutSeconds"] = "10",
        ["Worker:ShutdownGraceSeconds"] = "20",
        ["Webhooks:AllowPrivateNetworks"] = "true", // the test's receiver is on loopback
    };

    /// <summary>
    /// A fresh Worker process takes a few seconds to start and fetch a job on an idle machine, and
    /// several times that while the other test projects load both cores.
    /// </summary>
    private static readonly TimeSpan WorkerStart = TimeSpan.FromSeconds(90);

    private readonly ApiFactory _api = new(infrastructure);
    private WorkerHarness _harness = null!;
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync()
    {
        _harness = await WorkerHarness.CreateAsync(infrastructure);
        _receiver = await WebhookReceiver.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await _harness.DisposeAsync();
        await _api.DisposeAsync();
    }

    [Fact]
    public async Task A_worker_killed_mid_job_loses_nothing_and_the_effects_happen_once()
    {
        using var client = await _api.CreateTenantClientAsync("tenant-faults");
        var id = await SubmitAsync(client, webhook: true);

        using var doomed = ServiceProcess.Start("Worker", infrastructure, SlowWorker);
        await WaitForAsync(id, job => job.Status == JobStatus.Processing && job.Worker == doomed.Name, WorkerStart, doomed);
        doomed.Signal("KILL");
        Assert.True(await doomed.WaitForExitAsync(TimeSpan.FromSeconds(5)));

        var killedAt = DateTime.UtcNow;
        using var survivor = ServiceProcess.Start("Worker", infrastructure, new Dictionary<string, string>(SlowWorker)
        {
            ["Orchestration:Simulator:TokensPerSecond"] = "0",
        });
        var job = await WaitForAsync(id, job => job.Status == JobStatus.Completed, WorkerStart, survivor);
        output.WriteLine($"Recovered {(DateTime.UtcNow - killedAt).TotalSeconds:F1} s after the kill (invisibility timeout 10 s).");

        Assert.Equal(survivor.Name, job.Worker);
        Assert.Equal(2, job.Attempts);
        Assert.Equal(SimulatorGolden.HelloThere,
            job.Result!.Value.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal(1, await _harness.CountAsync("SELECT count(*) FROM usage_ledger WHERE job_id = $1", id));
        await ChatCompletionJobTests.WaitUntilAsync(() => Task.FromResult(!_receiver.Received.IsEmpty), timeoutSeconds: 15);
        await Task.Delay(1000);
        Assert.Equal([$"{id}.1"], _receiver.Received.Select(webhook => webhook.Id));
    }

    [Fact]
    public async Task SIGTERM_lets_the_running_job_finish_then_exits_0()
    {
        using var client = await _api.CreateTenantClientAsync("tenant-faults");
        var id = await SubmitAsync(client, webhook: false);

        using var worker = ServiceProcess.Start("Worker", infrastructure, SlowWorker);
        await WaitForAsync(id, job => job.Status == JobStatus.Processing && job.Worker == worker.Name, WorkerStart, worker);
        worker.Signal("TERM");

        Assert.True(await worker.WaitForExitAsync(TimeSpan.FromSeconds(30)), "the worker did not exit within its grace period");
        Assert.Equal(0, worker.ExitCode);
        var job = (await _harness.Store.GetAsync(id, CancellationToken.None))!;
        Assert.Equal(JobStatus.Completed, job.Status);
        Assert.Equal(1, job.Attempts);
    }

    [Fact]
    public async Task SIGTERM_requeues_a_job_that_outlasts_the_grace_period_and_another_worker_finishes_it()
    {
        using var client = await _api.CreateTenantClientAsync("tenant-faults");
        var id = await SubmitAsync(client, webhook: false);

        using var worker = ServiceProcess.Start("Worker", infrastructure, new Dictionary<string, string>(SlowWorker)
        {
            ["Worker:ShutdownGraceSeconds"] = "1",
        });
        await WaitForAsync(id, job => job.Status == JobStatus.Processing && job.Worker == worker.Name, WorkerStart, worker);
        worker.Signal("TERM");

        Assert.True(await worker.WaitForExitAsync(TimeSpan.FromSeconds(15)), "the worker did not exit");
        Assert.Equal(0, worker.ExitCode);
        Assert.Equal(JobStatus.Pending, (await _harness.Store.GetAsync(id, CancellationToken.None))!.Status);

        using var next = ServiceProcess.Start("Worker", infrastructure, new Dictionary<string, string>(SlowWorker)
        {
            ["Orchestration:Simulator:TokensPerSecond"] = "0",
        });
        var job = await WaitForAsync(id, job => job.Status == JobStatus.Completed, WorkerStart, next);
        Assert.Equal(next.Name, job.Worker);
        Assert.Equal(1, await _harness.CountAsync("SELECT count(*) FROM usage_ledger WHERE job_id = $1", id));
    }

    private async Task<Guid> SubmitAsync(HttpClient client, bool webhook)
    {
        var body = JobRequests.Chat();
        if (webhook)
        {
            body["webhook_url"] = _receiver.Url;
        }

        using var response = await client.PostJobAsync(body);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.ReadJsonAsync()).GetProperty("id").GetGuid();
    }

    private async Task<JobRecord> WaitForAsync(Guid id, Func<JobRecord, bool> condition, TimeSpan timeout, ServiceProcess worker)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var job = (await _harness.Store.GetAsync(id, CancellationToken.None))!;
            if (condition(job))
            {
                return job;
            }

            if (DateTime.UtcNow > deadline || worker.HasExited)
            {
                output.WriteLine(worker.Output);
                Assert.Fail($"Job {id} is {job.Status} on {job.Worker}; the expected state was not reached (worker exited: {worker.HasExited}).");
            }

            await Task.Delay(50);
        }
    }
}
