using System.Net;
using System.Text;
using System.Text.Json;
using AspireLlm.Orchestration.Admission;
using AspireLlm.Tests.Shared;
using Npgsql;

namespace AspireLlm.ServiceTests.Api;

[Collection(ServiceCollection.Name)]
public sealed class JobsEndpointsTests(LocalInfrastructure infrastructure) : IAsyncLifetime
{
    private readonly ApiFactory _factory = new(infrastructure);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task A_job_for_a_model_the_key_may_not_use_is_403_batch_items_included()
    {
        using var client = await _factory.CreateLimitedClientAsync("tenant-a", new KeyLimits(AllowedModels: ["claude-sonnet"]));
        var batch = new System.Text.Json.Nodes.JsonObject
        {
            ["kind"] = "batch",
            ["input"] = new System.Text.Json.Nodes.JsonObject
            {
                ["requests"] = new System.Text.Json.Nodes.JsonArray(
                    JobRequests.Chat(model: "claude-sonnet")["input"]!.DeepClone(), JobRequests.Chat(model: "gpt-4o-mini")["input"]!.DeepClone()),
            },
        };

        // Inputs are read by the chat parser's exact names, on both sides: another casing is an unknown field, refused.
        var shouted = JobRequests.Chat(model: "claude-sonnet");
        shouted["input"]!.AsObject().Remove("model");
        shouted["input"]!["MODEL"] = "gpt-4o-mini";

        using var chat = await client.PostJobAsync(JobRequests.Chat(model: "gpt-4o-mini"));
        using var allowed = await client.PostJobAsync(JobRequests.Chat(model: "claude-sonnet"));
        using var mixed = await client.PostJobAsync(batch);
        using var sneaky = await client.PostJobAsync(shouted);

        Assert.Equal(HttpStatusCode.BadRequest, sneaky.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, chat.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, allowed.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, mixed.StatusCode);
    }

    [Fact]
    public async Task Accepted_job_answers_202_with_location_retry_after_and_a_pending_status()
    {
        using var client = await _factory.CreateTenantClientAsync("tenant-a");

        using var response = await client.PostJobAsync(JobRequests.Chat());

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.ReadJsonAsync();
        var id = body.GetProperty("id").GetGuid();
        Assert.Equal($"/v1/jobs/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal(TimeSpan.FromSeconds(5), response.Headers.RetryAfter?.Delta);
        Assert.Equal("pending", body.GetProperty("status").GetString());

        // No Worker runs in these tests, so the job stays pending and is polled with Retry-After: 5.
        using var poll = await client.GetAsync(response.Headers.Location);
        Assert.Equal(HttpStatusCode.OK, poll.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(5), poll.Headers.RetryAfter?.Delta);
        var job = await poll.ReadJsonAsync();
        Assert.Equal("pending", job.GetProperty("status").GetString());
        Assert.Equal("accepted", job.GetProperty("steps")[0].GetProperty("step").GetString());
    }

    [Fact]
    public async Task Same_idempotency_key_and_body_returns_the_first_job()
    {
        using var client = await _factory.CreateTenantClientAsync("tenant-a");
        var key = Guid.NewGuid().ToString();

        using var first = await client.PostJobAsync(JobRequests.Chat(), key);
        // Same content, different property order and spacing: the canonical hash matches.
        var reordered = """{ "input": {"temperature": 0.7, "messages": [{"content": "Hello there", "role": "user"}], "model": "gpt-4o-mini"}, "kind": "chat.completion" }""";
        using var second = await client.PostAsync("/v1/jobs", WithKey(reordered, key));

        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        Assert.Equal((await first.ReadJsonAsync()).GetProperty("id").GetGuid(), (await second.ReadJsonAsync()).GetProperty("id").GetGuid());
        Assert.Equal("true", second.Headers.GetValues("Idempotent-Replayed").Single());
    }

    [Fact]
    public async Task Same_idempotency_key_with_a_different_body_is_422()
    {
        using var client = await _factory.CreateTenantClientAsync("tenant-a");
        var key = Guid.NewGuid().ToString();

        using var first = await client.PostJobAsync(JobRequests.Chat("one"), key);
        using var second = await client.PostJobAsync(JobRequests.Chat("two"), key);

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, second.StatusCode);
        Assert.Equal("application/problem+json", second.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Idempotency_keys_are_scoped_to_the_callers_api_key()
    {
        using var alice = await _factory.CreateTenantClientAsync("tenant-a");
        using var bob = await _factory.CreateTenantClientAsync("tenant-b");
        var key = Guid.NewGuid().ToString();

        using var first = await alice.PostJobAsync(JobRequests.Chat(), key);
        using var second = await bob.PostJobAsync(JobRequests.Chat(), key);

        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        Assert.NotEqual((await first.ReadJsonAsync()).GetProperty("id").GetGuid(), (await second.ReadJsonAsync()).GetProperty("id").GetGuid());
    }

    [Fact]
    public async Task Another_tenants_job_is_not_found()
    {
        using var alice = await _factory.CreateTenantClientAsync("tenant-a");
        using var bob = await _factory.CreateTenantClientAsync("tenant-b");
        using var created = await alice.PostJobAsync(JobRequests.Chat());

        using var response = await bob.GetAsync(created.Headers.Location);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        using var malformedId = await bob.GetAsync("/v1/jobs/not-a-guid");
        Assert.Equal(HttpStatusCode.NotFound, malformedId.StatusCode);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer sk-llm-0000000000000000000000000000000000000000")]
    [InlineData("Basic dXNlcjpwYXNz")]
    public async Task Missing_or_unknown_key_is_401(string? authorization)
    {
        using var client = _factory.CreateClient();
        if (authorization is not null)
        {
            client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", authorization);
        }

        using var response = await client.PostJobAsync(JobRequests.Chat());

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Theory]
    [InlineData("{not json", "$")]
    [InlineData("""{"input": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]}}""", "kind")]
    [InlineData("""{"kind": "video.render", "input": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]}}""", "kind")]
    [InlineData("""{"kind": "chat.completion"}""", "input")]
    [InlineData("""{"kind": "chat.completion", "input": {"model": "gpt-4o-mini"}}""", "input.messages")]
    [InlineData("""{"kind": "chat.completion", "input": {"messages": [{"role": "user", "content": "x"}]}}""", "input.model")]
    [InlineData("""{"kind": "chat.completion", "input": {"model": "no-such-model", "messages": [{"role": "user", "content": "x"}]}}""", "input.model")]
    [InlineData("""{"kind": "chat.completion", "input": {"model": "gpt-4o-mini", "messages": [{"role": "wizard", "content": "x"}]}}""", "input.messages[0].role")]
    [InlineData("""{"kind": "chat.completion", "input": {"model": "gpt-4o-mini", "temperature": 7, "messages": [{"role": "user", "content": "x"}]}}""", "input.temperature")]
    [InlineData("""{"kind": "chat.completion", "input": {"model": "gpt-4o-mini", "messages": "hello"}}""", "input.messages")]
    public async Task Bad_input_is_400_naming_the_field_and_writes_nothing(string body, string field)
    {
        var tenant = "tenant-" + Guid.NewGuid().ToString("N")[..8];
        using var client = await _factory.CreateTenantClientAsync(tenant);

        using var response = await client.PostAsync("/v1/jobs", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ReadJsonAsync();
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"errors should name '{field}': {problem}");
        Assert.Equal(0, await CountJobsAsync(tenant));
    }

    [Fact]
    public async Task Body_over_the_limit_is_413_and_writes_nothing()
    {
        var tenant = "tenant-" + Guid.NewGuid().ToString("N")[..8];
        using var client = await _factory.CreateTenantClientAsync(tenant);

        using var response = await client.PostJobAsync(JobRequests.Chat(new string('x', (int)ApiFactory.MaxBodyBytes)));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(0, await CountJobsAsync(tenant));
    }

    [Fact]
    public async Task Invalid_idempotency_key_is_400()
    {
        using var client = await _factory.CreateTenantClientAsync("tenant-a");
        using var response = await client.PostJobAsync(JobRequests.Chat(), new string('k', 300));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Models_lists_the_routed_aliases_in_openai_shape()
    {
        using var client = await _factory.CreateTenantClientAsync("tenant-a");
        var models = await (await client.GetAsync("/v1/models")).ReadJsonAsync();

        Assert.Equal("list", models.GetProperty("object").GetString());
        Assert.Contains("gpt-4o-mini", models.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task Admin_endpoints_need_an_admin_key()
    {
        using var tenant = await _factory.CreateTenantClientAsync("tenant-a");
        using var admin = _factory.CreateClientWithKey(ApiFactory.AdminKey);
        using var created = await tenant.PostJobAsync(JobRequests.Chat("for the admin list"));
        var id = (await created.ReadJsonAsync()).GetProperty("id").GetGuid();

        using var forbidden = await tenant.GetAsync("/v1/admin/jobs");
        using var listed = await admin.GetAsync("/v1/admin/jobs?limit=500");

        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        var jobs = await listed.ReadJsonAsync();
        Assert.Contains(jobs.EnumerateArray(), job => job.GetProperty("id").GetGuid() == id
            && job.GetProperty("tenant_id").GetString() == "tenant-a");
    }

    [Fact]
    public async Task Openapi_document_is_published()
    {
        using var client = _factory.CreateClient();
        var document = await (await client.GetAsync("/openapi/v1.json")).ReadJsonAsync();
        Assert.True(document.GetProperty("paths").TryGetProperty("/v1/jobs", out _));
    }

    private async Task<long> CountJobsAsync(string tenant)
    {
        await using var connection = new NpgsqlConnection(infrastructure.DatabaseConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM jobs WHERE tenant_id = $1", connection);
        command.Parameters.AddWithValue(tenant);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static StringContent WithKey(string body, string key)
    {
        var content = new StringContent(body, Encoding.UTF8, "application/json");
        content.Headers.Add("Idempotency-Key", key);
        return content;
    }
}
