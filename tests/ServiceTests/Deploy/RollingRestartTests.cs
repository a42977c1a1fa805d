using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AspireLlm.Tests.Shared;
using Npgsql;
using Xunit.Abstractions;

namespace AspireLlm.ServiceTests.Deploy;

/// <summary>
/// A rolling restart as Kubernetes does it with maxSurge 1 and maxUnavailable 0, under load: two Api and
/// two Worker processes (real processes, real sockets, their own Postgres and Redis), each replaced in
/// turn (the new one started and ready, then the old one sent SIGTERM), while clients stream chat
/// completions, submit jobs and follow job events through a readiness-aware proxy (what a Service does).
/// Not DCP's replicas: DCP neither restarts a replica nor routes by readiness, so it could not show
/// what a real rollout does.
/// </summary>
[Collection(RollingCollection.Name)]
public sealed class RollingRestartTests(LocalInfrastructure infrastructure, ITestOutputHelper output)
{
    [Fact]
    public async Task Replacing_every_replica_in_turn_under_load_fails_no_request_cuts_no_stream_and_runs_every_job_once()
    {
        await using var proxy = new ReadinessProxy();
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var processes = new List<ServiceProcess>();
        try
        {
            async Task<ServiceProcess> StartApiAsync(string name)
            {
                var api = ServiceProcess.Start("Api", infrastructure, RollingClients.ApiSettings(tokensPerSecond: 40));
                processes.Add(api);
                await api.WaitHealthyAsync(probe);
                proxy.Add(name, api.BaseAddress);
                await proxy.WaitReadyAsync(name, TimeSpan.FromSeconds(10));
                return api;
            }

            async Task<ServiceProcess> StartWorkerAsync()
            {
                var worker = ServiceProcess.Start("Worker", infrastructure, RollingClients.WorkerSettings);
                processes.Add(worker);
                await worker.WaitHealthyAsync(probe);
                return worker;
            }

            var apis = new List<(string Name, ServiceProcess Process)> { ("api-1", await StartApiAsync("api-1")), ("api-2", await StartApiAsync("api-2")) };
            var workers = new List<ServiceProcess> { await StartWorkerAsync(), await StartWorkerAsync() };

            var clock = System.Diagnostics.Stopwatch.StartNew();
            var load = new Load(proxy.BaseAddress);
            var running = load.Start();
            await Task.Delay(TimeSpan.FromSeconds(2));

            // The Api replicas: a new one ready first, then the old one drains.
            for (var i = 0; i < 2; i++)
            {
                var (oldName, old) = apis[i];
                var name = $"api-{i + 3}";
                apis.Add((name, await StartApiAsync(name)));
                old.Signal("TERM");
                Assert.True(await old.WaitForExitAsync(TimeSpan.FromSeconds(30)), $"{oldName} did not exit");
                Assert.True(old.ExitCode == 0, $"{oldName} exited {old.ExitCode}:\n{old.Output}");
                proxy.Remove(oldName);
                output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: {oldName} replaced by {name}");
                await Task.Delay(TimeSpan.FromSeconds(1.5));
            }

            // The Workers: the same, one at a time; the old one finishes its running jobs within its grace.
            for (var i = 0; i < 2; i++)
            {
                var old = workers[i];
                workers.Add(await StartWorkerAsync());
                old.Signal("TERM");
                Assert.True(await old.WaitForExitAsync(TimeSpan.FromSeconds(40)), "a Worker did not exit");
                Assert.True(old.ExitCode == 0, $"a Worker exited {old.ExitCode}:\n{old.Output}");
                output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: Worker {old.Name} replaced by {workers[^1].Name}");
                await Task.Delay(TimeSpan.FromSeconds(1.5));
            }

            await load.StopAsync(running);
            var jobs = await WaitForJobsAsync(load.Jobs.ToArray(), TimeSpan.FromSeconds(90));
            output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: load stopped and every job final");

            output.WriteLine($"{load.Streams} chat streams, {load.Jobs.Count} jobs, {load.Followed} job event streams followed " +
                $"({load.Reconnects} reconnects after a replica closed a stream)");
            output.WriteLine("new connections per Api process: " + string.Join(", ", proxy.ConnectionsByBackend.Select(pair => $"{pair.Key}={pair.Value}")));
            output.WriteLine("jobs per Worker process: " + string.Join(", ", jobs.GroupBy(job => job.Worker).Select(group => $"{group.Key}={group.Count()}")));

            Assert.Empty(load.Failures);
            Assert.Equal(0, proxy.Refused);
            Assert.True(load.Streams > 20 && load.Jobs.Count > 20, "too little load to show anything");
            Assert.All(proxy.ConnectionsByBackend, pair => Assert.True(pair.Value > 0, $"{pair.Key} served nothing"));
            Assert.All(jobs, job =>
            {
                Assert.Equal("completed", job.Status);
                Assert.Equal(1, job.LedgerRows);
                Assert.Equal(1, job.Attempts);
            });
            // Jobs ran on the Workers before and after their replacement.
            Assert.True(jobs.Select(job => job.Worker).Distinct().Count() >= 3, "jobs did not spread over the Worker generations");
        }
        catch
        {
            foreach (var process in processes)
            {
                output.WriteLine($"--- process {process.Id} ---\n{process.Output}");
            }

            throw;
        }
        finally
        {
            foreach (var process in processes)
            {
                process.Dispose();
            }
        }
    }

    private sealed record JobOutcome(Guid Id, string Status, int Attempts, string? Worker, long LedgerRows);

    private async Task<List<JobOutcome>> WaitForJobsAsync(Guid[] ids, TimeSpan timeout)
    {
        await using var dataSource = NpgsqlDataSource.Create(infrastructure.DatabaseConnectionString);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var outcomes = new List<JobOutcome>();
            await using (var command = dataSource.CreateCommand(
                "SELECT j.id, j.status, j.attempts, j.worker, (SELECT count(*) FROM usage_ledger l WHERE l.job_id = j.id) FROM jobs j WHERE j.id = ANY($1)"))
            {
                command.Parameters.AddWithValue(ids);
                await using var reader = await command.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    outcomes.Add(new JobOutcome(reader.GetGuid(0), reader.GetString(1), reader.GetInt32(2), reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetInt64(4)));
                }
            }

            Assert.Equal(ids.Length, outcomes.Count);
            if (outcomes.All(job => job.Status is "completed" or "failed" or "cancelled") || DateTime.UtcNow > deadline)
            {
                return outcomes;
            }

            await Task.Delay(250);
        }
    }

    /// <summary>The clients: chat streams (pooled connections that are renewed every second, and one per stream), job submissions, event followers.</summary>
    private sealed class Load(Uri proxy)
    {
        private readonly CancellationTokenSource _stop = new();
        private int _streams;
        private int _followed;
        private int _reconnects;

        public ConcurrentQueue<string> Failures { get; } = new();
        public ConcurrentQueue<Guid> Jobs { get; } = new();
        public int Streams => Volatile.Read(ref _streams);
        public int Followed => Volatile.Read(ref _followed);
        public int Reconnects => Volatile.Read(ref _reconnects);

        public Task Start() => Task.WhenAll(
            StreamLoopAsync(closeConnection: false), StreamLoopAsync(closeConnection: true),
            SubmitLoopAsync());

        public async Task StopAsync(Task running)
        {
            await _stop.CancelAsync();
            await running.WaitAsync(TimeSpan.FromSeconds(60));
        }

        private async Task StreamLoopAsync(bool closeConnection)
        {
            using var client = RollingClients.Client(proxy, new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromSeconds(1) });
            while (!_stop.IsCancellationRequested)
            {
                var result = await RollingClients.StreamChatAsync(client, closeConnection: closeConnection);
                Interlocked.Increment(ref _streams);
                if (!RollingClients.IsWhole(result))
                {
                    Failures.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} chat stream: done={result.Done}, error={result.Error}, content='{result.Content}'");
                }
            }
        }

        private async Task SubmitLoopAsync()
        {
            using var client = RollingClients.Client(proxy);
            var followers = new List<Task>();
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs")
                    {
                        Content = JsonContent.Create(new
                        {
                            kind = "chat.completion",
                            input = new { model = "gpt-4o-mini", temperature = 0.7, messages = new[] { new { role = "user", content = "Hello there" } } },
                        }),
                    };
                    request.Headers.ConnectionClose = true;
                    using var response = await client.SendAsync(request);
                    if (response.StatusCode != HttpStatusCode.Accepted)
                    {
                        Failures.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} POST /v1/jobs: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                        continue;
                    }

                    var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
                    Jobs.Enqueue(id);
                    if (Jobs.Count % 4 == 0)
                    {
                        followers.Add(FollowAsync(client, id));
                    }
                }
                catch (HttpRequestException exception)
                {
                    Failures.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} POST /v1/jobs: {exception}");
                }

                await Task.Delay(250);
            }

            await Task.WhenAll(followers);
        }

        /// <summary>A follower must see every event once, in order (ids 1, 2, 3, …), across reconnects, up to the completion.</summary>
        private async Task FollowAsync(HttpClient client, Guid id)
        {
            try
            {
                var (ids, final, connections) = await RollingClients.FollowJobAsync(client, id, TimeSpan.FromSeconds(90));
                Interlocked.Increment(ref _followed);
                Interlocked.Add(ref _reconnects, connections - 1);
                if (final != "completed" || !ids.SequenceEqual(Enumerable.Range(1, ids.Count).Select(i => (long)i)))
                {
                    Failures.Enqueue($"job {id} events: final={final}, ids=[{string.Join(',', ids)}]");
                }
            }
            catch (Exception exception) when (exception is HttpRequestException or IOException or TaskCanceledException)
            {
                Failures.Enqueue($"job {id} events: {exception}");
            }
        }
    }
}
