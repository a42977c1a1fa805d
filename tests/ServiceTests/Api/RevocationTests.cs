using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AspireLlm.Orchestration.Jobs;
using AspireLlm.Tests.Shared;

namespace AspireLlm.ServiceTests.Api;

/// <summary>A revoked key stops everything it started: open streams end, pending jobs are cancelled, running ones told to stop.</summary>
[Collection(ServiceCollection.Name)]
public sealed class RevocationTests(LocalInfrastructure infrastructure) : IAsyncLifetime
{
    private static readonly TimeSpan RevocationBound = TimeSpan.FromSeconds(5);

    private readonly ApiFactory _api = new(infrastructure)
    {
        // Slow enough that a streamed answer is still running when its key is revoked.
        Settings = { ["Orchestration:Simulator:TokensPerSecond"] = "4" },
    };

    private readonly Npgsql.NpgsqlDataSource _dataSource = Npgsql.NpgsqlDataSource.Create(infrastructure.DatabaseConnectionString);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _dataSource.DisposeAsync();
        await _api.DisposeAsync();
    }

    [Fact]
    public async Task Revoking_a_key_ends_its_open_job_event_stream_with_an_error_event()
    {
        var (id, client) = await CreateKeyAsync();
        var jobId = await SubmitAsync(client);
        // Running, with no Worker to finish it: its cancellation is only requested, so no final event ends the stream.
        var store = new JobStore(_dataSource, TestEncryption.Cipher);
        Assert.NotNull(await store.TryStartAsync(jobId, await DispatchAsync(jobId), "test-worker", DateTimeOffset.UtcNow, CancellationToken.None));
        using var response = await client.GetAsync($"/v1/jobs/{jobId}/events", HttpCompletionOption.ResponseHeadersRead);
        using var events = new SseReader(await response.Content.ReadAsStreamAsync());
        Assert.Equal("status", (await events.ReadAsync())!.Type);

        await RevokeAsync(id);

        using var bound = new CancellationTokenSource(RevocationBound);
        var error = await events.ReadAsync(bound.Token);
        Assert.Equal("error", error!.Type);
        Assert.Equal("key_revoked", error.Data.GetProperty("code").GetString());
        Assert.Null(await events.ReadAsync(bound.Token));
    }

    [Fact]
    public async Task Revoking_a_key_ends_its_streamed_completion_with_an_error_and_no_done()
    {
        var (id, client) = await CreateKeyAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = JsonContent.Create(new { model = "gpt-4o-mini", stream = true, messages = new[] { new { role = "user", content = "Tell me a long story" } } }),
        };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.StartsWith("data: ", await reader.ReadLineAsync());

        await RevokeAsync(id);

        using var bound = new CancellationTokenSource(RevocationBound);
        var rest = await reader.ReadToEndAsync(bound.Token);
        Assert.Contains("\"code\":\"key_revoked\"", rest, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", rest, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Revoking_a_key_cancels_its_pending_jobs_and_asks_its_running_ones_to_stop()
    {
        var (id, client) = await CreateKeyAsync();
        var pending = await SubmitAsync(client);
        var running = await SubmitAsync(client);
        var store = new JobStore(_dataSource, TestEncryption.Cipher);
        // As a Worker would have: the second job is running.
        Assert.NotNull(await store.TryStartAsync(running, await DispatchAsync(running), "test-worker", DateTimeOffset.UtcNow, CancellationToken.None));

        await RevokeAsync(id);

        Assert.Equal(JobStatus.Cancelled, (await store.GetAsync(pending, CancellationToken.None))!.Status);
        var stopping = (await store.GetAsync(running, CancellationToken.None))!;
        Assert.Equal(JobStatus.Processing, stopping.Status);
        Assert.NotNull(stopping.CancelRequestedAt);
        using var refused = await client.PostJobAsync(JobRequests.Chat());
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    private async Task<(Guid Id, HttpClient Client)> CreateKeyAsync()
    {
        using var admin = _api.CreateClientWithKey(ApiFactory.AdminKey);
        using var created = await admin.PostAsJsonAsync("/v1/admin/keys", new { tenant_id = "tenant-revocation", name = "to be revoked" });
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        return (body.GetProperty("details").GetProperty("id").GetGuid(), _api.CreateClientWithKey(body.GetProperty("key").GetString()!));
    }

    private async Task RevokeAsync(Guid id)
    {
        using var admin = _api.CreateClientWithKey(ApiFactory.AdminKey);
        using var revoked = await admin.PostAsync($"/v1/admin/keys/{id}/revoke", null);
        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
    }

    private static async Task<Guid> SubmitAsync(HttpClient client)
    {
        using var response = await client.PostJobAsync(JobRequests.Chat());
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.ReadJsonAsync()).GetProperty("id").GetGuid();
    }

    private async Task<Guid> DispatchAsync(Guid jobId)
    {
        await using var command = _dataSource.CreateCommand("UPDATE jobs SET dispatch_id = gen_random_uuid(), hangfire_job_id = 'test' WHERE id = $1 RETURNING dispatch_id");
        command.Parameters.AddWithValue(jobId);
        return (Guid)(await command.ExecuteScalarAsync())!;
    }
}
