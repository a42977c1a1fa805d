using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using AspireLlm.ServiceTests.Api;
using AspireLlm.Tests.Shared;
using Npgsql;

namespace AspireLlm.ServiceTests.Gateway;

/// <summary>Server-side conversations: any replica serves the next turn; history is encrypted at rest and tenant-scoped.</summary>
[Collection(ServiceCollection.Name)]
public sealed class ConversationsTests(LocalInfrastructure infrastructure) : TwoReplicas(infrastructure)
{
    private static async Task<JsonElement> Json(HttpResponseMessage response) => await response.Content.ReadFromJsonAsync<JsonElement>();

    [Fact]
    public async Task Turns_on_two_replicas_build_one_history_stored_encrypted()
    {
        using var onA = await ReplicaA.CreateTenantClientAsync("tenant-conv");
        var key = onA.DefaultRequestHeaders.Authorization!.Parameter!;
        using var onB = ReplicaB.CreateClientWithKey(key);

        using var created = await onA.PostAsJsonAsync("/v1/conversations", new { model = "gpt-4o-mini", system = "You are terse." });
        var id = (await Json(created)).GetProperty("id").GetGuid();
        using var first = await onA.PostAsJsonAsync($"/v1/conversations/{id}/messages", new { content = "My secret word is pineapple." });
        using var second = await onB.PostAsync($"/v1/conversations/{id}/messages",
            JsonContent.Create(new JsonObject { ["content"] = "What did I say?", ["stream"] = true }));
        var events = await second.ReadEventsAsync();
        var history = await Json(await onB.GetAsync($"/v1/conversations/{id}"));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("chat.completion", (await Json(first)).GetProperty("object").GetString());
        Assert.Equal("[DONE]", events[^1]);
        var messages = history.GetProperty("messages").EnumerateArray().ToList();
        Assert.Equal(["system", "user", "assistant", "user", "assistant"], messages.Select(m => m.GetProperty("role").GetString()));
        Assert.Equal("My secret word is pineapple.", messages[1].GetProperty("content").GetString());

        // At rest, the database holds ciphertext only.
        await using var database = NpgsqlDataSource.Create(Infrastructure.DatabaseConnectionString);
        await using var command = database.CreateCommand("SELECT content FROM conversation_messages WHERE conversation_id = $1 AND seq = 1");
        command.Parameters.AddWithValue(id);
        var stored = (byte[])(await command.ExecuteScalarAsync())!;
        Assert.DoesNotContain("pineapple", System.Text.Encoding.UTF8.GetString(stored), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Another_tenant_can_neither_read_nor_continue_a_conversation()
    {
        using var owner = await ReplicaA.CreateTenantClientAsync("tenant-conv-owner");
        using var stranger = await ReplicaA.CreateTenantClientAsync("tenant-conv-stranger");
        using var created = await owner.PostAsJsonAsync("/v1/conversations", new { model = "gpt-4o-mini" });
        var id = (await Json(created)).GetProperty("id").GetGuid();

        using var read = await stranger.GetAsync($"/v1/conversations/{id}");
        using var write = await stranger.PostAsJsonAsync($"/v1/conversations/{id}/messages", new { content = "hi" });

        Assert.Equal(HttpStatusCode.NotFound, read.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, write.StatusCode);
        Assert.Equal("conversation_not_found", (await write.ErrorOf()).GetProperty("code").GetString());
    }

    [Fact]
    public async Task Bad_turns_are_refused_and_leave_the_history_alone()
    {
        using var client = await ReplicaA.CreateTenantClientAsync("tenant-conv");
        using var created = await client.PostAsJsonAsync("/v1/conversations", new { model = "gpt-4o-mini" });
        var id = (await Json(created)).GetProperty("id").GetGuid();

        using var noContent = await client.PostAsJsonAsync($"/v1/conversations/{id}/messages", new { text = "wrong field" });
        using var badParameter = await client.PostAsJsonAsync($"/v1/conversations/{id}/messages", new { content = "hi", temperature = 9 });
        using var unknownModel = await client.PostAsJsonAsync("/v1/conversations", new { model = "nope" });
        var history = await Json(await client.GetAsync($"/v1/conversations/{id}"));

        Assert.Equal(HttpStatusCode.BadRequest, noContent.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badParameter.StatusCode);
        Assert.Equal("temperature", (await badParameter.ErrorOf()).GetProperty("param").GetString());
        Assert.Equal(HttpStatusCode.NotFound, unknownModel.StatusCode);
        Assert.Equal(0, history.GetProperty("messages").GetArrayLength());
    }
}
