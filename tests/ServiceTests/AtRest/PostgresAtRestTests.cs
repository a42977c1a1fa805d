using System.Text.Json;
using AspireLlm.Orchestration.Encryption;
using AspireLlm.Orchestration.Jobs;
using AspireLlm.Orchestration.Jobs.Webhooks;
using AspireLlm.ServiceTests.Api;
using AspireLlm.ServiceTests.Worker;
using AspireLlm.Tests.Shared;

namespace AspireLlm.ServiceTests.AtRest;

/// <summary>Each kind of content the database holds is ciphertext there, and reads back whole through the Api and the Worker.</summary>
[Collection(ServiceCollection.Name)]
public sealed class PostgresAtRestTests(LocalInfrastructure infrastructure) : ApiAndWorkerTest(infrastructure)
{
    private const string Marker = "pineapple-7f3a";

    [Fact]
    public async Task Job_input_result_and_webhook_body_are_ciphertext_and_read_back_through_the_api()
    {
        using var client = await Api.CreateTenantClientAsync("tenant-at-rest");
        var body = JobRequests.Chat($"My code word is {Marker}.");
        body["webhook_url"] = "http://127.0.0.1:9/hook";
        var id = await client.SubmitAsync(body);
        await Worker.ChatJob().RunAsync(id, await Worker.DispatchIdAsync(id), CancellationToken.None);

        var job = await client.GetJsonAsync($"/v1/jobs/{id}");
        // The Worker opened the input (it answered), and the Api opens the result.
        Assert.Equal(JobStatus.Completed, job.GetProperty("status").GetString());
        var answer = RawStorage.AnswerOf(job.GetProperty("result"));

        RawStorage.AssertSealed(await Worker.DataSource.ReadAsync("SELECT input FROM jobs WHERE id = $1", id), "k1", Marker, "\"messages\"");
        RawStorage.AssertSealed(await Worker.DataSource.ReadAsync("SELECT result FROM jobs WHERE id = $1", id), "k1", answer, "chat.completion");
        var payload = await Worker.DataSource.ReadAsync("SELECT payload FROM webhook_deliveries WHERE job_id = $1", id);
        RawStorage.AssertSealed(payload, "k1", answer, "\"completed\"");
        using var webhook = JsonDocument.Parse(TestEncryption.Cipher.OpenString(payload!, SealContext.For(SealContext.WebhookPayload, id, 1)));
        Assert.Equal(id, webhook.RootElement.GetProperty("id").GetGuid());
        Assert.Equal(answer, RawStorage.AnswerOf(webhook.RootElement.GetProperty("result")));
    }

    [Fact]
    public async Task Batch_item_results_are_ciphertext_and_a_rerun_reads_them_back()
    {
        var requests = new[] { WorkerHarness.ChatInput($"first {Marker}"), WorkerHarness.ChatInput($"second {Marker}") };
        var id = await Worker.CreateJobAsync(new { requests, max_concurrency = 2 }, JobKinds.Batch);
        await Worker.BatchJob().RunAsync(id, await Worker.DispatchIdAsync(id), CancellationToken.None);

        var job = (await Worker.Store.GetAsync(id, CancellationToken.None))!;
        var items = await Worker.Store.GetItemsAsync(id, job.Run, CancellationToken.None);
        Assert.Equal(2, items.Count);
        foreach (var (index, item) in items)
        {
            var answer = RawStorage.AnswerOf(item.Result!.Value);
            Assert.Equal(answer, RawStorage.AnswerOf(job.Result!.Value.GetProperty("items")[index].GetProperty("result")));
            await using var command = Worker.DataSource.CreateCommand("SELECT result FROM job_items WHERE job_id = $1 AND item_index = $2");
            command.Parameters.AddWithValue(id);
            command.Parameters.AddWithValue(index);
            RawStorage.AssertSealed((byte[]?)await command.ExecuteScalarAsync(), "k1", answer);
        }
    }

    [Fact]
    public async Task A_keys_webhook_secret_is_ciphertext_and_the_api_and_the_worker_read_the_same_one()
    {
        using var client = await Api.CreateTenantClientAsync("tenant-at-rest-secret");
        var secret = (await client.GetJsonAsync("/v1/webhooks/secret")).GetProperty("secret").GetString()!;
        var again = (await client.GetJsonAsync("/v1/webhooks/secret")).GetProperty("secret").GetString();

        await using var command = Worker.DataSource.CreateCommand("SELECT id, webhook_secret FROM api_keys WHERE tenant_id = 'tenant-at-rest-secret'");
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        var (keyId, raw) = (reader.GetGuid(0), reader.GetFieldValue<byte[]>(1));

        Assert.Equal(64, secret.Length);
        Assert.Equal(secret, again);
        RawStorage.AssertSealed(raw, "k1", secret);
        Assert.Equal(secret, await new WebhookSecretStore(Worker.DataSource, TestEncryption.Cipher).GetOrCreateAsync(keyId, CancellationToken.None));
    }
}
