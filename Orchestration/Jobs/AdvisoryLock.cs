using Hangfire.Logging;
using Hangfire.Storage;
using Npgsql;

namespace AspireLlm.Orchestration.Jobs;

/// <summary>
/// A Hangfire distributed lock held as a Postgres session advisory lock on a connection of its own.
/// Hangfire takes one around every state change (twice per job). Hangfire.PostgreSql's lock is a row
/// in its <c>lock</c> table: two transactions to take it (one clears an expired row, one inserts) and
/// a delete to free it, so five round trips and three table writes per lock, and a lock left by a
/// SIGKILLed worker blocks its job until the row expires. An advisory lock is one round trip each
/// way, writes nothing, and Postgres frees it the moment the holder's session ends.
/// </summary>
/// <remarks>
/// Pooled connections are not reset when they go back to the pool (see <c>DatabaseTuning</c>), so a
/// connection whose lock state is in doubt after an error must never go back: its pool is cleared,
/// which closes it for good when it is disposed, and its session takes the lock with it.
/// </remarks>
internal sealed class AdvisoryLock : IDisposable
{
    // The key is Postgres's own 64-bit hash of the resource name, so every process derives the same key.
    private const string TryLockSql = "SELECT pg_try_advisory_lock(hashtextextended($1, 0))";
    private const string UnlockSql = "SELECT pg_advisory_unlock(hashtextextended($1, 0))";

    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan LongestRetryDelay = TimeSpan.FromMilliseconds(250);
    private static readonly ILog Log = LogProvider.GetLogger(typeof(AdvisoryLock));

    private readonly NpgsqlConnection _connection;
    private readonly string _resource;
    private bool _released;

    private AdvisoryLock(NpgsqlConnection connection, string resource)
    {
        _connection = connection;
        _resource = resource;
    }

    /// <summary>
    /// Takes the lock, waiting up to <paramref name="timeout"/>. Hangfire's storage API is synchronous,
    /// and its callers run on Hangfire's own dedicated threads, so this blocks.
    /// </summary>
    /// <exception cref="DistributedLockTimeoutException">Another session held the lock for the whole timeout.</exception>
    public static AdvisoryLock Acquire(Func<NpgsqlConnection> openConnection, string resource, TimeSpan timeout, TimeProvider timeProvider)
    {
        var started = timeProvider.GetTimestamp();
        var delay = FirstRetryDelay;
        var connection = openConnection();
        try
        {
            // Contention is rare (a job's lock is wanted by one worker at a time), so a short poll with
            // backoff is enough; a blocking pg_advisory_lock would need a session lock_timeout that
            // would then travel back into the pool with the connection.
            while (!TryLock(connection, resource))
            {
                var remaining = timeout - timeProvider.GetElapsedTime(started);
                if (remaining <= TimeSpan.Zero)
                {
                    connection.Dispose();
                    throw new DistributedLockTimeoutException(resource);
                }

                Thread.Sleep(delay < remaining ? delay : remaining);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, LongestRetryDelay.Ticks));
            }

            return new AdvisoryLock(connection, resource);
        }
        catch (Exception exception) when (exception is not DistributedLockTimeoutException)
        {
            // The server may have granted the lock before the error reached us.
            Discard(connection);
            throw;
        }
    }

    public void Dispose()
    {
        if (_released)
        {
            return;
        }

        _released = true;
        try
        {
            using var unlock = new NpgsqlCommand(UnlockSql, _connection);
            unlock.Parameters.AddWithValue(_resource);
            unlock.ExecuteScalar();
            _connection.Dispose();
        }
        catch (Exception exception)
        {
            // As Hangfire.PostgreSql does, a failed release does not fail the work it guarded (the state
            // change has committed); closing the session releases the lock instead.
            Log.WarnException($"Could not release the lock on '{_resource}'; its connection is closed instead.", exception);
            Discard(_connection);
        }
    }

    private static bool TryLock(NpgsqlConnection connection, string resource)
    {
        using var command = new NpgsqlCommand(TryLockSql, connection);
        command.Parameters.AddWithValue(resource);
        return (bool)command.ExecuteScalar()!;
    }

    /// <summary>Closes the connection for good instead of returning it to the pool with a lock it may hold.</summary>
    private static void Discard(NpgsqlConnection connection)
    {
        // Clearing the pool closes idle connections now and this busy one when it is disposed. It costs
        // the other users of the pool a reconnect, on a path that only a broken connection takes.
        NpgsqlConnection.ClearPool(connection);
        connection.Dispose();
    }
}
