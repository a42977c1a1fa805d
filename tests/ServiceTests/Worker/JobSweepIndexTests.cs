using AspireLlm.Orchestration.Jobs;
using AspireLlm.Tests.Shared;
using Npgsql;

namespace AspireLlm.ServiceTests.Worker;

/// <summary>
/// The stale sweep runs every few seconds in every Worker, so it must be served by an index over
/// active jobs, never a scan of every job ever run (the table only grows).
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class JobSweepIndexTests(LocalInfrastructure infrastructure)
{
    [Fact]
    public async Task The_stale_sweep_can_use_the_index_over_active_jobs()
    {
        await using var dataSource = NpgsqlDataSource.Create(infrastructure.DatabaseConnectionString);
        await using var connection = await dataSource.OpenConnectionAsync();
        // With sequential scans priced out, the planner still scans the table when no index can serve
        // the query; so an index scan here means one can. Statistics first: with the jobs other tests
        // left (most of them finished), stale estimates can make the index over all jobs of a kind look
        // as cheap as the one over active jobs.
        await using (var off = new NpgsqlCommand("ANALYZE jobs; SET enable_seqscan = off", connection))
        {
            await off.ExecuteNonQueryAsync();
        }

        await using var explain = new NpgsqlCommand($"EXPLAIN {JobStore.ReleaseStaleSql}", connection);
        var now = DateTimeOffset.UtcNow;
        explain.Parameters.AddWithValue(JobKinds.ChatCompletion);
        explain.Parameters.AddWithValue(now.AddMinutes(-15));
        explain.Parameters.AddWithValue(now.AddMinutes(-2));
        explain.Parameters.AddWithValue(now);
        var plan = new List<string>();
        await using (var reader = await explain.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                plan.Add(reader.GetString(0));
            }
        }

        Assert.Contains(plan, line => line.Contains("jobs_active", StringComparison.Ordinal));
        Assert.DoesNotContain(plan, line => line.Contains("Seq Scan", StringComparison.Ordinal));
    }
}
