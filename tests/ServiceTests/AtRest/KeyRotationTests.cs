using System.Net.Http.Json;
using System.Text.Json;
using AspireLlm.Orchestration.Encryption;
using AspireLlm.ServiceTests.Api;
using AspireLlm.ServiceTests.Worker;
using AspireLlm.Tests.Shared;

namespace AspireLlm.ServiceTests.AtRest;

/// <summary>
/// A rotation as an operator does it: a new key is added and made active on the Api and the Worker;
/// what the old key sealed still reads, and what is written from then on is sealed with the new one.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class KeyRotationTests(LocalInfrastructure infrastructure) : ApiAndWorkerTest(infrastructure)
{
    private const string NewSecret = "the-rotated-secret-of-at-least-32-characters";

    [Fact]
    public async Task After_the_active_key_changes_old_content_still_reads_and_new_content_is_sealed_with_the_new_key()
    {
        // Before: everything is sealed with k1, the conversation secret.
        using var before = await Api.CreateTenantClientAsync("tenant-rotation");
        var oldJob = await before.SubmitAsync(JobRequests.Chat("sealed with the first key"));
        await Worker.ChatJob().RunAsync(oldJob, await Worker.DispatchIdAsync(oldJob), CancellationToken.None);
        var oldResult = (await before.GetJsonAsync($"/v1/jobs/{oldJob}")).GetProperty("result").GetRawText();
        using var created = await before.PostAsJsonAsync("/v1/conversations", new { model = "gpt-4o-mini", system = "first-key system" });
        var conversation = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var secret = (await before.GetJsonAsync("/v1/webhooks/secret")).GetProperty("secret").GetString();

        // Rotate: k2 joins the ring and becomes active, on an Api replica and a Worker alike.
        await using var rotatedApi = new ApiFactory(Infrastructure)
        {
            Settings = { ["Encryption:Keys:k2"] = NewSecret, ["Encryption:ActiveKeyId"] = "k2" },
        };
        await using var rotatedWorker = await WorkerHarness.CreateAsync(
            Infrastructure, TestEncryption.With((EncryptionOptions.DefaultKeyId, TestEncryption.Secret), ("k2", NewSecret)));
        using var after = rotatedApi.CreateClientWithKey(before.DefaultRequestHeaders.Authorization!.Parameter!);

        Assert.Equal(oldResult, (await after.GetJsonAsync($"/v1/jobs/{oldJob}")).GetProperty("result").GetRawText());
        Assert.Equal(secret, (await after.GetJsonAsync("/v1/webhooks/secret")).GetProperty("secret").GetString());
        using var turn = await after.PostAsJsonAsync($"/v1/conversations/{conversation}/messages", new { content = "second-key turn" });
        var history = await after.GetJsonAsync($"/v1/conversations/{conversation}");
        Assert.Equal(["first-key system", "second-key turn"],
            history.GetProperty("messages").EnumerateArray().Take(2).Select(message => message.GetProperty("content").GetString()));
        Assert.Equal("k1", ContentCipher.KeyIdOf(await MessageAsync(conversation, 0)));
        Assert.Equal("k2", ContentCipher.KeyIdOf(await MessageAsync(conversation, 1)));

        var newJob = await after.SubmitAsync(JobRequests.Chat("sealed with the second key"));
        await rotatedWorker.ChatJob().RunAsync(newJob, await rotatedWorker.DispatchIdAsync(newJob), CancellationToken.None);
        Assert.Equal("completed", (await after.GetJsonAsync($"/v1/jobs/{newJob}")).GetProperty("status").GetString());
        Assert.Equal("k2", ContentCipher.KeyIdOf(await Worker.DataSource.ReadAsync("SELECT input FROM jobs WHERE id = $1", newJob)));
        Assert.Equal("k2", ContentCipher.KeyIdOf(await Worker.DataSource.ReadAsync("SELECT result FROM jobs WHERE id = $1", newJob)));
        Assert.Equal("k1", ContentCipher.KeyIdOf(await Worker.DataSource.ReadAsync("SELECT result FROM jobs WHERE id = $1", oldJob)));
    }

    private async Task<byte[]?> MessageAsync(Guid conversation, int seq)
    {
        await using var command = Worker.DataSource.CreateCommand("SELECT content FROM conversation_messages WHERE conversation_id = $1 AND seq = $2");
        command.Parameters.AddWithValue(conversation);
        command.Parameters.AddWithValue(seq);
        return (byte[]?)await command.ExecuteScalarAsync();
    }
}
