using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AspireLlm.Orchestration.Jobs.Events;
using AspireLlm.ServiceTests.Api;
using AspireLlm.ServiceTests.Gateway;
using AspireLlm.Tests.Shared;

namespace AspireLlm.ServiceTests.AtRest;

/// <summary><c>DELETE</c> on a job or a conversation: the content goes, from Postgres and Redis; what it cost stays.</summary>
[Collection(ServiceCollection.Name)]
public sealed class ErasureTests(LocalInfrastructure infrastructure) : ApiAndWorkerTest(infrastructure)
{
    [Fact]
    public async Task Deleting_a_finished_job_erases_its_content_everywhere_and_keeps_its_ledger_row()
    {
        using var owner = await Api.CreateTenantClientAsync("tenant-erase");
        using var stranger = await Api.CreateTenantClientAsync("tenant-erase-other");
        var body = JobRequests.Chat("Forget me");
        body["webhook_url"] = "http://127.0.0.1:9/hook";
        var id = await owner.SubmitAsync(body);
        await Worker.ChatJob().RunAsync(id, await Worker.DispatchIdAsync(id), CancellationToken.None);
        var usage = (await owner.GetJsonAsync($"/v1/jobs/{id}")).GetProperty("usage").GetRawText();

        using var strangers = await stranger.DeleteAsync($"/v1/jobs/{id}");
        Assert.Equal(HttpStatusCode.NotFound, strangers.StatusCode);
        Assert.NotNull(await Worker.DataSource.ReadAsync("SELECT result FROM jobs WHERE id = $1", id));

        using var deleted = await owner.DeleteAsync($"/v1/jobs/{id}");
        using var again = await owner.DeleteAsync($"/v1/jobs/{id}");
        var view = await owner.GetJsonAsync($"/v1/jobs/{id}");

        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal("completed", view.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, view.GetProperty("result").ValueKind);
        Assert.Equal(JsonValueKind.String, view.GetProperty("content_erased_at").ValueKind);
        Assert.Equal(usage, view.GetProperty("usage").GetRawText());
        Assert.Equal(1, await Worker.CountAsync("SELECT count(*) FROM jobs WHERE id = $1 AND input IS NULL AND result IS NULL AND legacy_input IS NULL", id));
        Assert.Equal(1, await Worker.CountAsync("SELECT count(*) FROM webhook_deliveries WHERE job_id = $1 AND payload IS NULL AND status = 'failed'", id));
        Assert.Equal(1, await Worker.CountAsync("SELECT count(*) FROM usage_ledger WHERE job_id = $1", id));
        Assert.False(await Worker.Redis.GetDatabase().KeyExistsAsync(JobEventLog.ListKey(id)));
    }

    [Fact]
    public async Task A_job_that_has_not_finished_is_not_deleted()
    {
        using var client = await Api.CreateTenantClientAsync("tenant-erase");
        var id = await client.SubmitAsync(JobRequests.Chat("still needed"));

        using var refused = await client.DeleteAsync($"/v1/jobs/{id}");

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("cancel", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.NotNull(await Worker.DataSource.ReadAsync("SELECT input FROM jobs WHERE id = $1", id));
    }

    [Fact]
    public async Task Deleting_a_conversation_erases_its_messages_and_its_cached_copy()
    {
        using var owner = await Api.CreateTenantClientAsync("tenant-erase-conv");
        using var stranger = await Api.CreateTenantClientAsync("tenant-erase-conv-other");
        using var created = await owner.PostAsJsonAsync("/v1/conversations", new { model = "gpt-4o-mini", system = "Be brief." });
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        using var turn = await owner.PostAsJsonAsync($"/v1/conversations/{id}/messages", new { content = "Remember this." });
        await owner.GetJsonAsync($"/v1/conversations/{id}"); // cached in Redis now
        var cacheKey = $"aspirellm:conversation:{id:N}";

        using var strangers = await stranger.DeleteAsync($"/v1/conversations/{id}");
        Assert.Equal(HttpStatusCode.NotFound, strangers.StatusCode);
        Assert.Equal("conversation_not_found", (await strangers.ErrorOf()).GetProperty("code").GetString());
        Assert.Equal(3, await Worker.CountAsync("SELECT count(*) FROM conversation_messages WHERE conversation_id = $1", id));

        using var deleted = await owner.DeleteAsync($"/v1/conversations/{id}");
        using var read = await owner.GetAsync($"/v1/conversations/{id}");
        using var again = await owner.DeleteAsync($"/v1/conversations/{id}");

        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        var confirmation = await deleted.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((id, "conversation.deleted", true),
            (confirmation.GetProperty("id").GetGuid(), confirmation.GetProperty("object").GetString(), confirmation.GetProperty("deleted").GetBoolean()));
        Assert.Equal(HttpStatusCode.NotFound, read.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Equal(0, await Worker.CountAsync("SELECT count(*) FROM conversation_messages WHERE conversation_id = $1", id));
        Assert.Equal(0, await Worker.CountAsync("SELECT count(*) FROM conversations WHERE id = $1", id));
        Assert.Equal("deleted", (string?)await Worker.Redis.GetDatabase().StringGetAsync(cacheKey));
    }
}
