using System.Collections.Concurrent;
using Hangfire.PostgreSql;
using Hangfire.Storage;
using Npgsql;

namespace AspireLlm.Orchestration.Jobs;

/// <summary>
/// Hangfire's Postgres storage with one fetcher per queue per process at a time. With long polling,
/// every idle Hangfire worker waits on the same notification, and each new job woke all of them
/// into a fetch query that all but one lost: about 20 queries per job at 20 workers, most of the
/// database's CPU under load (measured by bench/JobsBench). Behind the gate, one worker polls and
/// fetches while the others wait in-process; the next one takes over as soon as a job is fetched.
/// Written by hand: Hangfire.PostgreSql has no setting for it. Its distributed locks are advisory
/// locks here (see <see cref="AdvisoryLock"/>), and a job's state lock is held in process (see
/// <see cref="JobStateLocks"/>), for the same reason: cost per job.
/// </summary>
internal sealed class GatedPostgreSqlStorage(IConnectionFactory connectionFactory, PostgreSqlStorageOptions options)
    : PostgreSqlStorage(connectionFactory, options)
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _gates = new(StringComparer.Ordinal);

    private readonly IConnectionFactory _connectionFactory = connectionFactory;

    private string SchemaName { get; } = options.SchemaName;

    private NpgsqlConnection OpenConnection()
    {
        var connection = _connectionFactory.GetOrCreateConnection();
        connection.Open();
        return connection;
    }

    public override IStorageConnection GetConnection() => new GatedConnection(this);

    private SemaphoreSlim GateFor(string[] queues) => _gates.GetOrAdd(string.Join('\u001f', queues), _ => new SemaphoreSlim(1, 1));

    private sealed class GatedConnection(GatedPostgreSqlStorage storage) : PostgreSqlConnection(storage)
    {
        // Hangfire may take a lock it already holds through the same connection; as in the base class,
        // that nests instead of waiting on itself (an advisory lock is per session, and each lock here
        // has a session of its own).
        private readonly Dictionary<string, (IDisposable Lock, int Holders)> _held = new(StringComparer.Ordinal);

        public override IDisposable AcquireDistributedLock(string resource, TimeSpan timeout)
        {
            ArgumentException.ThrowIfNullOrEmpty(resource);
            var key = $"{storage.SchemaName}:{resource}";
            _held[key] = _held.TryGetValue(key, out var held)
                ? held with { Holders = held.Holders + 1 }
                : (Acquire(key, resource, timeout), 1);
            return new Holder(this, key);
        }

        private IDisposable Acquire(string key, string resource, TimeSpan timeout) => JobStateLocks.IsJobStateLock(resource)
            ? JobStateLocks.Acquire(key, timeout)
            : AdvisoryLock.Acquire(storage.OpenConnection, key, timeout, TimeProvider.System);

        public override void Dispose()
        {
            // A lock still held here was not released by its holder (neither kind's Dispose throws).
            foreach (var (held, _) in _held.Values)
            {
                held.Dispose();
            }

            _held.Clear();
            base.Dispose();
        }

        private void Release(string key)
        {
            if (!_held.TryGetValue(key, out var held))
            {
                return;
            }

            if (held.Holders > 1)
            {
                _held[key] = held with { Holders = held.Holders - 1 };
                return;
            }

            _held.Remove(key);
            held.Lock.Dispose();
        }

        private sealed class Holder(GatedConnection connection, string key) : IDisposable
        {
            private bool _disposed;

            public void Dispose()
            {
                if (!_disposed)
                {
                    _disposed = true;
                    connection.Release(key);
                }
            }
        }

        public override IFetchedJob FetchNextJob(string[] queues, CancellationToken cancellationToken)
        {
            // Separate gates per queue set: a worker long-polling an idle queue must not hold up another queue's workers.
            var gate = storage.GateFor(queues);
            gate.Wait(cancellationToken);
            try
            {
                return base.FetchNextJob(queues, cancellationToken);
            }
            finally
            {
                gate.Release();
            }
        }
    }
}
