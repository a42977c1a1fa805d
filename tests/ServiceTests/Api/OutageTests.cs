using System.Net;
using AspireLlm.Tests.Shared;

namespace AspireLlm.ServiceTests.Api;

/// <summary>With Postgres unreachable, requests get 503 with Retry-After, never a 500.</summary>
[Collection(ServiceCollection.Name)]
public sealed class OutageTests(LocalInfrastructure infrastructure)
{
    [Fact]
    public async Task Unreachable_database_is_503_with_retry_after()
    {
        var nothingListens = $"Host=127.0.0.1;Port={LocalInfrastructure.FreePort()};Username=postgres;Password=x;Database=llmdb;Timeout=2";
        await using var factory = new ApiFactory(nothingListens, infrastructure.RedisConnectionString);
        using var client = factory.CreateClientWithKey(ApiFactory.AdminKey);

        using var response = await client.PostJobAsync(JobRequests.Chat());

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(5), response.Headers.RetryAfter?.Delta);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);

        using var health = await factory.CreateClient().GetAsync("/health");
        using var alive = await factory.CreateClient().GetAsync("/alive");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
    }
}
