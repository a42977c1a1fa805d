using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using AspireLlm.Api.ApiKeys;
using AspireLlm.Orchestration.Admission;
using AspireLlm.ServiceTests.Api;
using AspireLlm.Tests.Shared;

namespace AspireLlm.ServiceTests.Gateway;

/// <summary><c>/v1/chat/completions</c> in OpenAI's shapes, served by the simulator, against real Redis and Postgres.</summary>
[Collection(ServiceCollection.Name)]
public sealed class ChatCompletionsTests(LocalInfrastructure infrastructure) : IAsyncLifetime
{
    private readonly ApiFactory _api = new(infrastructure);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task A_completion_has_OpenAIs_shape_usage_and_a_request_id()
    {
        using var client = await _api.CreateTenantClientAsync("tenant-chat");

        using var response = await client.PostChatAsync(ChatRequests.Body());
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("req_", response.Headers.GetValues("x-request-id").Single());
        Assert.Equal("chat.completion", body.GetProperty("object").GetString());
        Assert.Equal("gpt-4o-mini", body.GetProperty("model").GetString());
        var choice = body.GetProperty("choices")[0];
        Assert.Equal("assistant", choice.GetProperty("message").GetProperty("role").GetString());
        Assert.Equal(SimulatorGolden.HelloThere, choice.GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        var usage = body.GetProperty("usage");
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32() + usage.GetProperty("completion_tokens").GetInt32(), usage.GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task A_stream_is_SSE_chunks_ending_with_usage_and_DONE()
    {
        using var client = await _api.CreateTenantClientAsync("tenant-chat");
        var body = ChatRequests.Body(stream: true);
        body["stream_options"] = new JsonObject { ["include_usage"] = true };

        using var response = await client.PostChatAsync(body);
        var events = await response.ReadEventsAsync();

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-cache", response.Headers.CacheControl?.ToString());
        Assert.Equal("no", response.Headers.GetValues("X-Accel-Buffering").Single());
        Assert.Equal("[DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e).RootElement).ToList();
        Assert.All(chunks, chunk => Assert.Equal("chat.completion.chunk", chunk.GetProperty("object").GetString()));
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        var text = string.Concat(chunks.Where(c => c.GetProperty("choices").GetArrayLength() > 0)
            .Select(c => c.GetProperty("choices")[0].GetProperty("delta"))
            .Select(d => d.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String ? content.GetString() : ""));
        Assert.Equal(SimulatorGolden.HelloThere, text);
        Assert.Equal("stop", chunks[^2].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(0, chunks[^1].GetProperty("choices").GetArrayLength());
        Assert.True(chunks[^1].GetProperty("usage").GetProperty("total_tokens").GetInt32() > 0);
    }

    public static TheoryData<string, string, int, string?> BadRequests() => new()
    {
        { "malformed JSON", """{"model": "gpt-4o-mini", "messages": [""", 400, null },
        { "wrong type", """{"model": "gpt-4o-mini", "messages": [{"role":"user","content":"hi"}], "temperature": "hot"}""", 400, "temperature" },
        { "unknown field", """{"model": "gpt-4o-mini", "messages": [{"role":"user","content":"hi"}], "temperture": 1}""", 400, "temperture" },
        { "empty messages", """{"model": "gpt-4o-mini", "messages": []}""", 400, "messages" },
        { "bad role", """{"model": "gpt-4o-mini", "messages": [{"role":"wizard","content":"hi"}]}""", 400, "messages[0].role" },
        { "negative max_tokens", """{"model": "gpt-4o-mini", "messages": [{"role":"user","content":"hi"}], "max_tokens": -5}""", 400, "max_tokens" },
        { "huge max_tokens", """{"model": "gpt-4o-mini", "messages": [{"role":"user","content":"hi"}], "max_tokens": 99999999999}""", 400, "max_tokens" },
        { "missing model", """{"messages": [{"role":"user","content":"hi"}]}""", 400, "model" },
        { "unknown alias", """{"model": "gpt-17", "messages": [{"role":"user","content":"hi"}]}""", 404, "model" },
        { "n > 1", """{"model": "gpt-4o-mini", "messages": [{"role":"user","content":"hi"}], "n": 3}""", 400, "n" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_input_gets_OpenAIs_error_naming_the_parameter_and_costs_nothing(string what, string json, int status, string? param)
    {
        // One request a minute: a refused bad request must not use it up.
        using var client = await _api.CreateLimitedClientAsync("tenant-bad-" + Guid.NewGuid().ToString("N")[..6], new KeyLimits(RequestsPerMinute: 1));

        using var response = await client.PostRawAsync(ChatRequests.Utf8(json));
        var error = await response.ErrorOf();
        using var good = await client.PostChatAsync(ChatRequests.Body());

        Assert.True((int)response.StatusCode == status, $"{what}: got {(int)response.StatusCode}");
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        Assert.False(string.IsNullOrEmpty(error.GetProperty("type").GetString()));
        if (param is not null)
        {
            Assert.Equal(param, error.GetProperty("param").GetString());
        }

        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
    }

    [Fact]
    public async Task Invalid_UTF8_and_oversized_bodies_are_refused()
    {
        using var client = await _api.CreateTenantClientAsync("tenant-chat");
        byte[] invalid = [.. ChatRequests.Utf8("""{"model": "gpt-4o-mini", "messages": [{"role":"user","content":" """), 0xC3, 0x28, .. ChatRequests.Utf8("\"}]}")];

        using var badUtf8 = await client.PostRawAsync(invalid);
        using var tooLarge = await client.PostChatAsync(ChatRequests.Body(new string('x', (int)ApiFactory.MaxBodyBytes)));

        Assert.Equal(HttpStatusCode.BadRequest, badUtf8.StatusCode);
        Assert.Equal("invalid_request_error", (await badUtf8.ErrorOf()).GetProperty("type").GetString());
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
    }

    [Fact]
    public async Task Missing_or_revoked_keys_get_401_in_OpenAIs_shape()
    {
        using var anonymous = _api.CreateClient();
        using var admin = _api.CreateClientWithKey(ApiFactory.AdminKey);
        using var created = await admin.PostAsJsonAsync("/v1/admin/keys", new { tenant_id = "tenant-revoke", name = "soon revoked" });
        var key = (await created.Content.ReadFromJsonAsync<JsonElement>());
        using var client = _api.CreateClientWithKey(key.GetProperty("key").GetString()!);

        using var before = await client.PostChatAsync(ChatRequests.Body());
        using var revoked = await admin.PostAsync($"/v1/admin/keys/{key.GetProperty("details").GetProperty("id").GetGuid()}/revoke", null);
        using var after = await client.PostChatAsync(ChatRequests.Body());
        using var none = await anonymous.PostChatAsync(ChatRequests.Body());

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        Assert.Equal("invalid_api_key", (await after.ErrorOf()).GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
    }

    [Fact]
    public async Task A_model_the_key_may_not_use_is_403()
    {
        using var client = await _api.CreateLimitedClientAsync("tenant-chat", new KeyLimits(AllowedModels: ["claude-sonnet"]));

        using var response = await client.PostChatAsync(ChatRequests.Body(model: "gpt-4o-mini"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("model_not_allowed", (await response.ErrorOf()).GetProperty("code").GetString());
    }

    [Fact]
    public async Task Requests_over_the_per_minute_limit_get_429_with_retry_after_and_rate_limit_headers()
    {
        await WaitForFreshMinuteAsync();
        using var client = await _api.CreateLimitedClientAsync("tenant-rl-" + Guid.NewGuid().ToString("N")[..6], new KeyLimits(RequestsPerMinute: 2));

        using var first = await client.PostChatAsync(ChatRequests.Body("one"));
        using var second = await client.PostChatAsync(ChatRequests.Body("two"));
        using var third = await client.PostChatAsync(ChatRequests.Body("three"));

        Assert.Equal("2", first.Headers.GetValues("x-ratelimit-limit-requests").Single());
        Assert.Equal("1", first.Headers.GetValues("x-ratelimit-remaining-requests").Single());
        Assert.Equal("0", second.Headers.GetValues("x-ratelimit-remaining-requests").Single());
        Assert.EndsWith("s", second.Headers.GetValues("x-ratelimit-reset-requests").Single());
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.Equal("rate_limit_exceeded", (await third.ErrorOf()).GetProperty("code").GetString());
        Assert.InRange(third.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task A_spent_token_budget_is_429_insufficient_quota()
    {
        using var client = await _api.CreateLimitedClientAsync("tenant-budget-" + Guid.NewGuid().ToString("N")[..6], new KeyLimits(DailyTokenBudget: 150));
        var body = ChatRequests.Body();
        body["max_tokens"] = 100;

        using var first = await client.PostChatAsync(body);
        using var second = await client.PostChatAsync(body);
        using var third = await client.PostChatAsync(body);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        // About 110 tokens worst case each, about 32 really used: after two settled calls (64 spent),
        // a third worst case (64 + 110) no longer fits in 150.
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.Equal("insufficient_quota", (await third.ErrorOf()).GetProperty("type").GetString());
    }

    [Fact]
    public async Task Admins_create_list_change_and_validate_keys()
    {
        using var admin = _api.CreateClientWithKey(ApiFactory.AdminKey);
        var tenant = "tenant-admin-" + Guid.NewGuid().ToString("N")[..6];

        using var bad = await admin.PostAsJsonAsync("/v1/admin/keys", new { tenant_id = tenant, name = "x", requests_per_minute = -1, allowed_models = new[] { "nope" } });
        using var created = await admin.PostAsJsonAsync("/v1/admin/keys", new { tenant_id = tenant, name = "ci", requests_per_minute = 10 });
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        var id = body.GetProperty("details").GetProperty("id").GetGuid();
        using var updated = await admin.PutAsJsonAsync($"/v1/admin/keys/{id}", new { name = "ci renamed", tokens_per_minute = 5000 });
        var list = await admin.GetFromJsonAsync<JsonElement>($"/v1/admin/keys?tenant_id={tenant}");
        using var tenantLimits = await admin.PutAsJsonAsync($"/v1/admin/tenants/{tenant}/limits", new { requests_per_minute = 100 });
        using var asTenant = _api.CreateClientWithKey(body.GetProperty("key").GetString()!);
        using var forbidden = await asTenant.GetAsync("/v1/admin/keys");

        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.StartsWith(ApiKeyFormat.Prefix, body.GetProperty("key").GetString());
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        var listed = Assert.Single(list.EnumerateArray());
        Assert.Equal("ci renamed", listed.GetProperty("name").GetString());
        Assert.Equal(5000, listed.GetProperty("limits").GetProperty("tokens_per_minute").GetInt32());
        Assert.False(listed.TryGetProperty("key", out _));
        Assert.Equal(HttpStatusCode.NoContent, tenantLimits.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
    }

    [Fact]
    public async Task Admins_see_every_deployments_circuit()
    {
        using var admin = _api.CreateClientWithKey(ApiFactory.AdminKey);
        using var tenant = await _api.CreateTenantClientAsync("tenant-chat");

        var circuits = await admin.GetFromJsonAsync<JsonElement>("/v1/admin/circuits");
        using var forbidden = await tenant.GetAsync("/v1/admin/circuits");

        var gpt = Assert.Single(circuits.EnumerateArray(), c => c.GetProperty("alias").GetString() == "gpt-4o-mini");
        Assert.Equal("sim-gpt-4o-mini", gpt.GetProperty("deployment").GetString());
        Assert.Equal("closed", gpt.GetProperty("state").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
    }

    /// <summary>Per-minute windows: start a limit test early in a minute so it cannot straddle two.</summary>
    internal static async Task WaitForFreshMinuteAsync()
    {
        var second = DateTimeOffset.UtcNow.Second;
        if (second > 45)
        {
            await Task.Delay(TimeSpan.FromSeconds(61 - second));
        }
    }
}
