using System.Net;
using System.Net.Http.Headers;
using AspireLlm.Api.ApiKeys;
using AspireLlm.Tests.Shared;

namespace AspireLlm.ServiceTests.Api;

/// <summary>What one key, or one address without a key, may hold or try: beyond it, 429 with Retry-After.</summary>
[Collection(ServiceCollection.Name)]
public sealed class KeyCapsTests(LocalInfrastructure infrastructure) : IAsyncLifetime
{
    private readonly ApiFactory _api = new(infrastructure)
    {
        Settings =
        {
            ["Jobs:MaxPendingPerKey"] = "2",
            ["Jobs:MaxEventStreamsPerKey"] = "2",
            ["ApiKeys:FailuresPerMinutePerAddress"] = "5",
        },
    };

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task A_key_may_have_only_so_many_jobs_pending()
    {
        using var client = await _api.CreateTenantClientAsync("tenant-caps-pending");
        using var first = await client.PostJobAsync(JobRequests.Chat());
        using var second = await client.PostJobAsync(JobRequests.Chat(), idempotencyKey: "second");
        using var third = await client.PostJobAsync(JobRequests.Chat());
        using var replay = await client.PostJobAsync(JobRequests.Chat(), idempotencyKey: "second");

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.NotNull(third.Headers.RetryAfter);
        Assert.Equal("too_many_pending_jobs", (await third.ReadJsonAsync()).GetProperty("code").GetString());
        // An idempotent replay of an accepted job is still answered at the cap.
        Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);
    }

    [Fact]
    public async Task A_key_may_have_only_so_many_event_streams_open_and_a_closed_one_frees_its_place()
    {
        using var client = await _api.CreateTenantClientAsync("tenant-caps-streams");
        using var submitted = await client.PostJobAsync(JobRequests.Chat());
        var id = (await submitted.ReadJsonAsync()).GetProperty("id").GetGuid();

        var one = await client.GetAsync($"/v1/jobs/{id}/events", HttpCompletionOption.ResponseHeadersRead);
        using var two = await client.GetAsync($"/v1/jobs/{id}/events", HttpCompletionOption.ResponseHeadersRead);
        using var three = await client.GetAsync($"/v1/jobs/{id}/events", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        Assert.Equal(HttpStatusCode.OK, two.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, three.StatusCode);
        Assert.NotNull(three.Headers.RetryAfter);

        one.Dispose();
        await Worker.ChatCompletionJobTests.WaitUntilAsync(async () =>
        {
            using var again = await client.GetAsync($"/v1/jobs/{id}/events", HttpCompletionOption.ResponseHeadersRead);
            return again.StatusCode == HttpStatusCode.OK;
        });
    }

    [Fact]
    public async Task Requests_without_a_valid_key_are_throttled_per_address_before_any_lookup()
    {
        using var client = _api.CreateClient();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 8; i++)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKeyFormat.Generate());
            using var response = await client.GetAsync("/v1/models");
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.NotNull(response.Headers.RetryAfter);
                Assert.Contains("\"code\":\"too_many_failed_attempts\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
        }

        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.Unauthorized, 5), .. Enumerable.Repeat(HttpStatusCode.TooManyRequests, 3)], statuses);
    }
}
