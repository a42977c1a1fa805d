using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AspireLlm.Tests.Shared;

namespace AspireLlm.SystemTests;

/// <summary>
/// The OpenAI-compatible gateway in the whole system (2 Api replicas behind the AppHost): a key made
/// by an admin chats, streams and keeps a conversation; revoking it works at once.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class GatewayTests(AppFixture fixture)
{
    [Fact]
    public async Task An_admin_made_key_chats_streams_and_converses_until_revoked()
    {
        using var admin = fixture.CreateApiClient();
        using var created = await admin.PostAsJsonAsync("/v1/admin/keys", new { tenant_id = "system-gateway", name = "system test", requests_per_minute = 1000 });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var key = await created.Content.ReadFromJsonAsync<JsonElement>();
        using var client = fixture.CreateApiClient(key.GetProperty("key").GetString());

        using var chat = await client.PostAsJsonAsync("/v1/chat/completions",
            new { model = "gpt-4o-mini", messages = new[] { new { role = "user", content = "Hello there" } } });
        var completion = await chat.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        Assert.Equal(SimulatorGolden.HelloThere, completion.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("999", chat.Headers.GetValues("x-ratelimit-remaining-requests").Single());

        using var stream = await client.PostAsJsonAsync("/v1/chat/completions",
            new { model = "gpt-4o-mini", stream = true, messages = new[] { new { role = "user", content = "Hello there" } } });
        Assert.EndsWith("data: [DONE]\n\n", await stream.Content.ReadAsStringAsync());

        using var conversation = await client.PostAsJsonAsync("/v1/conversations", new { model = "claude-sonnet" });
        var id = (await conversation.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        using var turn = await client.PostAsJsonAsync($"/v1/conversations/{id}/messages", new { content = "Remember me." });
        var history = await client.GetFromJsonAsync<JsonElement>($"/v1/conversations/{id}");
        Assert.Equal(HttpStatusCode.OK, turn.StatusCode);
        Assert.Equal(2, history.GetProperty("messages").GetArrayLength());

        using var revoke = await admin.PostAsync($"/v1/admin/keys/{key.GetProperty("details").GetProperty("id").GetGuid()}/revoke", null);
        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        await Task.Delay(TimeSpan.FromSeconds(1)); // the bound on revocation across replicas
        for (var i = 0; i < 4; i++)
        {
            // Several requests, so that both replicas behind the AppHost's endpoint are asked.
            using var refused = await client.PostAsJsonAsync("/v1/chat/completions",
                new { model = "gpt-4o-mini", messages = new[] { new { role = "user", content = "Still there?" } } });
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }
    }
}
