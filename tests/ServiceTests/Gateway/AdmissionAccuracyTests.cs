using System.Net;
using AspireLlm.Api.ApiKeys;
using AspireLlm.Orchestration.Admission;
using AspireLlm.ServiceTests.Api;
using AspireLlm.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace AspireLlm.ServiceTests.Gateway;

/// <summary>
/// Two Api replicas (two hosts sharing Redis and Postgres) and 100 concurrent clients: together
/// they never admit more than a per-minute limit, and never spend more than a budget.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class AdmissionAccuracyTests(LocalInfrastructure infrastructure) : TwoReplicas(infrastructure)
{
    private const int Clients = 100;
    private async Task<string> KeyAsync(string tenant, KeyLimits limits)
    {
        var key = ApiKeyFormat.Generate();
        await ReplicaA.Services.GetRequiredService<ApiKeyStore>().EnsureAsync(key, tenant, "accuracy", false, CancellationToken.None, limits);
        return key;
    }

    /// <summary>Sends <paramref name="total"/> requests from 100 concurrent clients split over both replicas.</summary>
    private async Task<List<HttpStatusCode>> BurstAsync(string key, int total, int maxTokens = 16)
    {
        var clients = Enumerable.Range(0, Clients).Select(i => (i % 2 == 0 ? ReplicaA : ReplicaB).CreateClientWithKey(key)).ToList();
        var statuses = new System.Collections.Concurrent.ConcurrentBag<HttpStatusCode>();
        await Parallel.ForEachAsync(Enumerable.Range(0, total), new ParallelOptions { MaxDegreeOfParallelism = Clients }, async (i, cancellationToken) =>
        {
            var body = ChatRequests.Body($"request {i}");
            body["max_tokens"] = maxTokens;
            using var response = await clients[i % Clients].PostChatAsync(body, cancellationToken: cancellationToken);
            await response.Content.ReadAsByteArrayAsync(cancellationToken);
            statuses.Add(response.StatusCode);
        });
        clients.ForEach(client => client.Dispose());
        return [.. statuses];
    }

    [Fact]
    public async Task Replicas_together_admit_exactly_the_per_minute_request_limit()
    {
        await ChatCompletionsTests.WaitForFreshMinuteAsync();
        var key = await KeyAsync("tenant-acc-" + Guid.NewGuid().ToString("N")[..6], new KeyLimits(RequestsPerMinute: 150));

        var statuses = await BurstAsync(key, total: 400);

        Assert.Equal(150, statuses.Count(status => status == HttpStatusCode.OK));
        Assert.Equal(250, statuses.Count(status => status == HttpStatusCode.TooManyRequests));
    }

    [Fact]
    public async Task Concurrent_requests_never_overspend_a_cost_budget()
    {
        // Worst case per request: about 13 prompt tokens at $0.15/M plus 16 output tokens at $0.60/M,
        // about $0.0000116: a $0.0005 budget fits roughly 43 worst cases.
        var tenant = "tenant-cost-" + Guid.NewGuid().ToString("N")[..6];
        var key = await KeyAsync(tenant, new KeyLimits(DailyCostBudget: 0.0005m));

        var statuses = await BurstAsync(key, total: 300);

        var keyId = (await ReplicaA.Services.GetRequiredService<ApiKeyStore>().ListAsync(tenant, CancellationToken.None)).Single().Id;
        await using var redis = await ConnectionMultiplexer.ConnectAsync(Infrastructure.RedisConnectionString);
        // Settlements are written without waiting for Redis's reply: give the last ones a moment to land.
        var budgetKey = $"aspirellm:budget:key:{keyId:N}:cost:d:{DateTime.UtcNow:yyyyMMdd}";
        var budget = await redis.GetDatabase().HashGetAllAsync(budgetKey);
        for (var i = 0; i < 50 && (long)budget.Single(e => e.Name == "reserved").Value != 0; i++)
        {
            await Task.Delay(100);
            budget = await redis.GetDatabase().HashGetAllAsync(budgetKey);
        }

        var spentDollars = (long)budget.Single(e => e.Name == "spent").Value / 100_000_000m;
        var admitted = statuses.Count(status => status == HttpStatusCode.OK);

        Assert.InRange(admitted, 30, 120);
        Assert.True(spentDollars <= 0.0005m, $"spent ${spentDollars} of a $0.0005 budget");
        Assert.Equal(0, (long)budget.Single(e => e.Name == "reserved").Value);
        Assert.All(statuses, status => Assert.True(status is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, status.ToString()));
    }
}
