using System.Collections.Concurrent;
using Npgsql;

namespace AspireLlm.Orchestration.Admission;

/// <summary>
/// Reads an API key's limits (and its tenant's) for calls made on its behalf outside a request, such
/// as the Worker's jobs: a job accepted with a key is charged to that key's limits and budgets.
/// </summary>
public sealed class AdmissionSubjects(NpgsqlDataSource dataSource, TimeProvider timeProvider)
{
    /// <summary>
    /// A changed limit reaches running Workers within this; jobs already accepted may keep the old
    /// limits that long. It saves a database query per job.
    /// </summary>
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<Guid, (AdmissionSubject Subject, DateTimeOffset Until)> _cache = new();

    /// <summary>A fresh subject for the key (admission writes into it), with limits at most a few seconds old.</summary>
    public async Task<AdmissionSubject> ForKeyAsync(Guid keyId, string tenantId, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        if (!_cache.TryGetValue(keyId, out var cached) || cached.Until <= now)
        {
            if (_cache.Count > 10_000)
            {
                _cache.Clear();
            }

            cached = (await ReadAsync(keyId, tenantId, cancellationToken), now + CacheFor);
            _cache[keyId] = cached;
        }

        var subject = cached.Subject;
        return new AdmissionSubject(subject.KeyId, subject.TenantId, subject.Limits, subject.TenantLimits);
    }

    private async Task<AdmissionSubject> ReadAsync(Guid keyId, string tenantId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT k.revoked_at, {KeyLimitsReader.Columns} {KeyLimitsReader.From} WHERE k.id = $1");
        command.Parameters.AddWithValue(keyId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return new AdmissionSubject(keyId, tenantId, KeyLimits.None, TenantLimits.None);
        }

        if (!reader.IsDBNull(0))
        {
            // Jobs submitted in the second before a revocation reached every replica stop here.
            throw new ModelAdmissionException("The API key that submitted this job has been revoked.", null, AdmissionRefusal.KeyRevoked);
        }

        var (limits, tenantLimits) = KeyLimitsReader.Read(reader, first: 1);
        return new AdmissionSubject(keyId, tenantId, limits, tenantLimits);
    }
}
