using System.Text.Json;
using AspireLlm.Orchestration.Encryption;
using AspireLlm.Orchestration.Jobs.Webhooks;
using AspireLlm.Orchestration.Storage;
using AspireLlm.ServiceTests.Worker;
using AspireLlm.Tests.Shared;

namespace AspireLlm.ServiceTests.AtRest;

/// <summary>Content an older version stored in the clear is sealed by the migrations step and reads as before.</summary>
[Collection(ServiceCollection.Name)]
public sealed class LegacyContentSealerTests(LocalInfrastructure infrastructure) : IAsyncLifetime
{
    private WorkerHarness _worker = null!;

    public async Task InitializeAsync() => _worker = await WorkerHarness.CreateAsync(infrastructure);

    public async Task DisposeAsync() => await _worker.DisposeAsync();

    [Fact]
    public async Task Rows_written_in_the_clear_are_sealed_emptied_and_read_back_unchanged()
    {
        var keyId = await _worker.CreateKeyAsync();
        var jobId = Guid.CreateVersion7();
        await using (var legacy = _worker.DataSource.CreateBatch())
        {
            void Add(string sql)
            {
                var command = legacy.CreateBatchCommand();
                command.CommandText = sql;
                command.Parameters.Add(new() { Value = jobId });
                command.Parameters.Add(new() { Value = keyId });
                legacy.BatchCommands.Add(command);
            }

            // As an older version wrote them: plaintext jsonb and text.
            Add("UPDATE api_keys SET legacy_webhook_secret = 'legacy-secret-of-the-old-days' WHERE id = $2 AND $1 IS NOT NULL");
            Add("""
                INSERT INTO jobs (id, tenant_id, api_key_id, kind, status, legacy_input, legacy_result, request_hash, created_at, updated_at, completed_at)
                VALUES ($1, 'tenant-w', $2, 'batch', 'completed', '{"requests": [{"model": "gpt-4o-mini", "note": "old-input"}]}',
                        '{"object": "batch.result", "note": "old-result"}', '\x00', now(), now(), now())
                """);
            Add("""INSERT INTO job_items (job_id, run, item_index, status, legacy_result, completed_at) SELECT $1, 1, 0, 'completed', '{"note": "old-item"}', now() WHERE $2 IS NOT NULL""");
            Add("""INSERT INTO webhook_deliveries (job_id, run, url, legacy_payload, status, next_attempt_at, created_at) SELECT $1, 1, 'http://127.0.0.1:9/', '{"note": "old-body"}', 'pending', now(), now() WHERE $2 IS NOT NULL""");
            await legacy.ExecuteNonQueryAsync();
        }

        var before = await LegacyContentSealer.CountAsync(_worker.DataSource, CancellationToken.None);
        var sealedCount = await LegacyContentSealer.SealAsync(_worker.DataSource, TestEncryption.Cipher, CancellationToken.None);
        var after = await LegacyContentSealer.CountAsync(_worker.DataSource, CancellationToken.None);

        Assert.Equal((5, 5, 0), (before, sealedCount, after));
        var job = (await _worker.Store.GetAsync(jobId, CancellationToken.None))!;
        Assert.Equal("old-input", job.Input.GetProperty("requests")[0].GetProperty("note").GetString());
        Assert.Equal("old-result", job.Result!.Value.GetProperty("note").GetString());
        Assert.Equal("old-item", (await _worker.Store.GetItemsAsync(jobId, 1, CancellationToken.None))[0].Result!.Value.GetProperty("note").GetString());
        Assert.Equal("legacy-secret-of-the-old-days",
            await new WebhookSecretStore(_worker.DataSource, TestEncryption.Cipher).GetOrCreateAsync(keyId, CancellationToken.None));
        var payload = await _worker.DataSource.ReadAsync("SELECT payload FROM webhook_deliveries WHERE job_id = $1", jobId);
        RawStorage.AssertSealed(payload, "k1", "old-body");
        Assert.Equal("old-body", JsonDocument.Parse(TestEncryption.Cipher.OpenString(payload!, SealContext.For(SealContext.WebhookPayload, jobId, 1)))
            .RootElement.GetProperty("note").GetString());
        RawStorage.AssertSealed(await _worker.DataSource.ReadAsync("SELECT input FROM jobs WHERE id = $1", jobId), "k1", "old-input");
    }
}
