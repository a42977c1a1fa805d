using System.Diagnostics;
using AspireLlm.Orchestration.Jobs;
using AspireLlm.Orchestration.Storage;
using AspireLlm.Tests.Shared;
using Hangfire.Storage;
using Npgsql;

namespace AspireLlm.ServiceTests.Worker;

/// <summary>
/// Hangfire's distributed locks as our storage takes them (Postgres advisory locks), between two
/// storages as two Worker processes would hold them, on the test Postgres; and a job's state lock,
/// which is held in the process only.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class HangfireLockTests(LocalInfrastructure infrastructure) : IAsyncLifetime
{
    private NpgsqlDataSource _dataSource = null!;

    public Task InitializeAsync()
    {
        // As the Worker configures it: pooled connections are not reset on return, so a lock left on one
        // would stay held for as long as it lives.
        var builder = new NpgsqlDataSourceBuilder(infrastructure.DatabaseConnectionString);
        DatabaseTuning.Configure(builder);
        _dataSource = builder.Build();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _dataSource.DisposeAsync();

    private IStorageConnection Connect() => HangfireStorage.Create(_dataSource, TimeSpan.FromMinutes(1)).GetConnection();

    // A lock that must hold across processes, as Hangfire's recurring-job and expiration locks.
    private static string Resource() => $"locks:test-{Guid.NewGuid():N}";

    [Fact]
    public async Task A_jobs_state_lock_keeps_other_workers_of_the_process_out_without_a_database_session()
    {
        var resource = $"job:{Random.Shared.NextInt64(1, long.MaxValue)}:state-lock";
        using var first = Connect();
        using var second = Connect();

        var held = first.AcquireDistributedLock(resource, TimeSpan.FromSeconds(1));
        Assert.Equal(0L, await SessionsHoldingAsync(resource));
        Assert.Throws<DistributedLockTimeoutException>(() => second.AcquireDistributedLock(resource, TimeSpan.FromMilliseconds(100)));
        var nested = first.AcquireDistributedLock(resource, TimeSpan.FromMilliseconds(100));
        nested.Dispose();
        using (second.AcquireDistributedLock($"job:{Random.Shared.NextInt64(1, long.MaxValue)}:state-lock", TimeSpan.FromMilliseconds(100)))
        {
            // Another job's lock is its own: taken at once beside this one.
        }

        Assert.Throws<DistributedLockTimeoutException>(() => second.AcquireDistributedLock(resource, TimeSpan.FromMilliseconds(100)));

        held.Dispose();
        held.Dispose(); // a second dispose must not free a lock another worker then holds
        using var taken = second.AcquireDistributedLock(resource, TimeSpan.FromSeconds(1));
        Assert.Throws<DistributedLockTimeoutException>(() => first.AcquireDistributedLock(resource, TimeSpan.FromMilliseconds(100)));
    }

    [Fact]
    public async Task A_held_lock_keeps_another_worker_out_until_it_is_released()
    {
        var resource = Resource();
        using var first = Connect();
        using var second = Connect();

        var held = first.AcquireDistributedLock(resource, TimeSpan.FromSeconds(1));
        var waited = Stopwatch.StartNew();
        Assert.Throws<DistributedLockTimeoutException>(() => second.AcquireDistributedLock(resource, TimeSpan.FromMilliseconds(300)));
        Assert.InRange(waited.Elapsed, TimeSpan.FromMilliseconds(290), TimeSpan.FromSeconds(5));

        held.Dispose();
        Assert.Equal(0L, await SessionsHoldingAsync(resource)); // released, not handed back to the pool still held
        using var taken = second.AcquireDistributedLock(resource, TimeSpan.FromSeconds(1));
        Assert.Equal(1L, await SessionsHoldingAsync(resource));
    }

    // The advisory locks granted on a Hangfire resource (the storage prefixes the schema name).
    private const string LocksOn = """
        FROM pg_locks
        WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()
          AND ((classid::bigint << 32) | objid::bigint) = hashtextextended('hangfire:' || $1, 0)
        """;

    private async Task<long> SessionsHoldingAsync(string resource)
    {
        await using var count = _dataSource.CreateCommand($"SELECT count(*) {LocksOn}");
        count.Parameters.AddWithValue(resource);
        return (long)(await count.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task A_waiting_worker_gets_the_lock_soon_after_it_is_released()
    {
        var resource = Resource();
        using var first = Connect();
        using var second = Connect();
        var held = first.AcquireDistributedLock(resource, TimeSpan.FromSeconds(1));

        var waiting = Task.Run(() => second.AcquireDistributedLock(resource, TimeSpan.FromSeconds(10)));
        await Task.Delay(200);
        Assert.False(waiting.IsCompleted);
        held.Dispose();

        using var taken = await waiting.WaitAsync(TimeSpan.FromSeconds(2));
    }

    [Fact]
    public void The_same_connection_nests_a_lock_it_holds_and_frees_it_with_the_outermost_release()
    {
        var resource = Resource();
        using var first = Connect();
        using var second = Connect();

        var outer = first.AcquireDistributedLock(resource, TimeSpan.FromSeconds(1));
        var inner = first.AcquireDistributedLock(resource, TimeSpan.FromMilliseconds(100));
        inner.Dispose();
        inner.Dispose(); // a second dispose of the same holder must not release the outer one
        Assert.Throws<DistributedLockTimeoutException>(() => second.AcquireDistributedLock(resource, TimeSpan.FromMilliseconds(100)));

        outer.Dispose();
        using var taken = second.AcquireDistributedLock(resource, TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task A_lock_whose_holder_died_is_free_at_once_and_no_lock_rows_are_written()
    {
        var resource = Resource();
        using var first = Connect();
        using var second = Connect();
        _ = first.AcquireDistributedLock(resource, TimeSpan.FromSeconds(1));

        // The holder's session ends as a SIGKILLed worker's would: Postgres drops its advisory locks.
        await using (var kill = _dataSource.CreateCommand($"SELECT pg_terminate_backend(pid) {LocksOn}"))
        {
            kill.Parameters.AddWithValue(resource);
            Assert.Equal(true, await kill.ExecuteScalarAsync());
        }

        await Task.Delay(100);
        using var taken = second.AcquireDistributedLock(resource, TimeSpan.FromSeconds(1));
        await using var rows = _dataSource.CreateCommand("SELECT count(*) FROM hangfire.lock WHERE resource LIKE '%' || $1");
        rows.Parameters.AddWithValue(resource);
        Assert.Equal(0L, await rows.ExecuteScalarAsync());
    }
}
