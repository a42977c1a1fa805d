using System.Collections.Concurrent;
using Hangfire.PostgreSql;
using Hangfire.Storage;

namespace AspireLlm.Orchestration.Jobs;

/// <summary>
/// Hangfire's Postgres storage with one fetcher per queue per process at a time. With long polling,
/// every idle Hangfire worker waits on the same notification, and each new job woke all of them
/// into a fetch query that all but one lost: about 20 queries per job at 20 workers, most of the
/// database's CPU under load (measured by bench/JobsBench). Behind the gate, one worker polls and
/// fetches while the others wait in-process; the next one takes over as soon as a job is fetched.
/// Written by hand: Hangfire.PostgreSql has no setting for it.
/// </summary>
internal sealed class GatedPostgreSqlStorage(IConnectionFactory connectionFactory, PostgreSqlStorageOptions options)
    : PostgreSqlStorage(connectionFactory, options)
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _gates = new(StringComparer.Ordinal);

    public override IStorageConnection GetConnection() => new GatedConnection(this);

    private SemaphoreSlim GateFor(string[] queues) => _gates.GetOrAdd(string.Join('\u001f', queues), _ => new SemaphoreSlim(1, 1));

    private sealed class GatedConnection(GatedPostgreSqlStorage storage) : PostgreSqlConnection(storage)
    {
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
