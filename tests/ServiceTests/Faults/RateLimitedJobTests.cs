using System.Net;
using AspireLlm.Orchestration.Admission;
using AspireLlm.Orchestration.Jobs;
using AspireLlm.ServiceTests.Api;
using AspireLlm.ServiceTests.Worker;
using AspireLlm.Tests.Shared;
using Xunit.Abstractions;

namespace AspireLlm.ServiceTests.Faults;

/// <summary>
/// A job refused by its key's per-minute limit waits for the window, says so in its step log, and
/// runs when the window allows: through the real Api and a real Worker process (it used to wait for
/// the 15-minute stale sweep, its Hangfire retry having gone to a queue no server reads).
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class RateLimitedJobTests(LocalInfrastructure infrastructure, ITestOutputHelper output) : IAsyncLifetime
{
    private readonly ApiFactory _api = new(infrastructure);
    private WorkerHarness _harness = null!;

    public async Task InitializeAsync() => _harness = await WorkerHarness.CreateAsync(infrastructure);

    public async Task DisposeAsync()
    {
        await _harness.DisposeAsync();
        await _api.DisposeAsync();
    }

    [Fact]
    public async Task A_job_refused_by_a_per_minute_limit_runs_when_the_window_allows_and_says_why_it_waits()
    {
        using var client = await _api.CreateLimitedClientAsync("tenant-rpm", new KeyLimits(RequestsPerMinute: 1));
        using var worker = ServiceProcess.Start("Worker", infrastructure, new Dictionary<string, string> { ["Worker:DispatchSweepSeconds"] = "1" });
        var first = await SubmitAsync(client);
        var second = await SubmitAsync(client);

        var waiting = await WaitForAsync([first, second], jobs => jobs.Any(job => job.CurrentStep?.StartsWith("waiting", StringComparison.Ordinal) == true),
            TimeSpan.FromSeconds(90), worker); // a Worker process starting on a busy machine takes a while
        var deferred = waiting.Single(job => job.CurrentStep?.StartsWith("waiting", StringComparison.Ordinal) == true);
        var wait = deferred.Steps.EnumerateArray().Last(step => step.GetProperty("step").GetString() == "waiting");
        var until = wait.GetProperty("until").GetDateTimeOffset();
        output.WriteLine($"{deferred.CurrentStep} ({wait.GetProperty("reason").GetString()})");

        Assert.Equal(JobStatus.Pending, deferred.Status);
        Assert.StartsWith("waiting for the rate limit until ", deferred.CurrentStep, StringComparison.Ordinal);
        Assert.Contains("requests per minute", wait.GetProperty("reason").GetString(), StringComparison.OrdinalIgnoreCase);
        // Within the next minute from when it was refused (not from now: the test may read it after the window opened).
        var refusedAt = wait.GetProperty("at").GetDateTimeOffset();
        Assert.InRange(until, refusedAt, refusedAt.AddSeconds(61));

        // The window is a calendar minute: the job runs within a few seconds after it ends.
        var done = await WaitForAsync([deferred.Id], jobs => jobs[0].Status == JobStatus.Completed, until - DateTimeOffset.UtcNow + TimeSpan.FromSeconds(30), worker);
        var finished = done[0];
        output.WriteLine($"completed {(finished.CompletedAt!.Value - until).TotalSeconds:F1} s after the window opened");
        Assert.True(finished.StartedAt <= finished.CompletedAt);
        Assert.Equal(1, finished.Attempts); // waiting for the window used no attempt
        Assert.True(finished.CompletedAt >= until);
    }

    private static async Task<Guid> SubmitAsync(HttpClient client)
    {
        using var response = await client.PostJobAsync(JobRequests.Chat());
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.ReadJsonAsync()).GetProperty("id").GetGuid();
    }

    private async Task<IReadOnlyList<JobRecord>> WaitForAsync(Guid[] ids, Func<IReadOnlyList<JobRecord>, bool> condition, TimeSpan timeout, ServiceProcess worker)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var jobs = new List<JobRecord>();
            foreach (var id in ids)
            {
                jobs.Add((await _harness.Store.GetAsync(id, CancellationToken.None))!);
            }

            if (condition(jobs))
            {
                return jobs;
            }

            if (DateTime.UtcNow > deadline || worker.HasExited)
            {
                output.WriteLine(worker.Output);
                Assert.Fail($"Jobs are {string.Join(", ", jobs.Select(job => $"{job.Status} ({job.CurrentStep})"))}; the expected state was not reached.");
            }

            await Task.Delay(100);
        }
    }
}
