using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AspireLlm.Api.ApiKeys;
using AspireLlm.ServiceTests.Api;
using AspireLlm.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;

namespace AspireLlm.ServiceTests.Admin;

/// <summary><c>POST /v1/admin/login</c>: the dashboard's login check, audited either way and throttled per address and overall.</summary>
[Collection(ServiceCollection.Name)]
public sealed class AdminLoginTests(LocalInfrastructure infrastructure) : IAsyncLifetime
{
    private const int PerAddress = 3;
    private const int Overall = 5;

    // A window far longer than any test, so no window boundary can fall inside one.
    private readonly ApiFactory _api = new(infrastructure)
    {
        Settings =
        {
            ["Admin:Login:AttemptsPerAddress"] = PerAddress.ToString(),
            ["Admin:Login:AttemptsOverall"] = Overall.ToString(),
            ["Admin:Login:Window"] = "01:00:00",
        },
    };

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task Success_and_failure_are_audited_with_both_addresses_and_never_the_key()
    {
        using var dashboard = _api.CreateClientWithKey(ApiFactory.AdminKey);
        var wrongKey = ApiKeyFormat.Generate();
        var tenantKey = ApiKeyFormat.Generate();
        await _api.Services.GetRequiredService<ApiKeyStore>().EnsureAsync(tenantKey, "tenant-login", "not admin", false, CancellationToken.None);
        var bootstrapId = (await _api.Services.GetRequiredService<ApiKeyStore>().FindAsync(ApiFactory.AdminKey, CancellationToken.None))!.Id;

        using var success = await LoginAsync(dashboard, ApiFactory.AdminKey, "203.0.113.10");
        using var unknown = await LoginAsync(dashboard, wrongKey, "203.0.113.11");
        using var notAdmin = await LoginAsync(dashboard, tenantKey, "203.0.113.12");

        Assert.Equal(HttpStatusCode.OK, success.StatusCode);
        Assert.Equal(bootstrapId, (await success.ReadJsonAsync()).GetProperty("key_id").GetGuid());
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, notAdmin.StatusCode);

        var succeeded = (await AuditAsync(dashboard, "login.success")).Single(row => row.GetProperty("forwarded_for").GetString() == "203.0.113.10");
        Assert.Equal(bootstrapId, succeeded.GetProperty("actor_key_id").GetGuid());
        var failedUnknown = (await AuditAsync(dashboard, "login.failure")).Single(row => row.GetProperty("forwarded_for").GetString() == "203.0.113.11");
        Assert.Equal(JsonValueKind.Null, failedUnknown.GetProperty("actor_key_id").ValueKind);
        Assert.Equal(ApiKeyFormat.PublicPrefix(wrongKey), failedUnknown.GetProperty("actor_prefix").GetString());
        Assert.Equal("unknown key", failedUnknown.GetProperty("details").GetProperty("reason").GetString());
        Assert.DoesNotContain(wrongKey, failedUnknown.GetRawText());
        Assert.DoesNotContain(wrongKey[ApiKeyFormat.PublicPrefix(wrongKey).Length..], failedUnknown.GetRawText());
        var failedTenant = (await AuditAsync(dashboard, "login.failure")).Single(row => row.GetProperty("forwarded_for").GetString() == "203.0.113.12");
        Assert.Equal("not an admin key", failedTenant.GetProperty("details").GetProperty("reason").GetString());
        Assert.True(failedTenant.TryGetProperty("client_address", out _));
    }

    [Fact]
    public async Task A_typed_password_that_is_not_one_of_our_keys_leaves_no_trace_of_itself()
    {
        using var dashboard = _api.CreateClientWithKey(ApiFactory.AdminKey);
        using var failed = await LoginAsync(dashboard, "correct horse battery staple", "203.0.113.20");

        var row = (await AuditAsync(dashboard, "login.failure")).Single(row => row.GetProperty("forwarded_for").GetString() == "203.0.113.20");
        Assert.Equal(HttpStatusCode.Unauthorized, failed.StatusCode);
        Assert.Equal("unknown", row.GetProperty("actor_prefix").GetString());
        Assert.DoesNotContain("horse", row.GetRawText());
    }

    [Fact]
    public async Task Attempts_are_throttled_per_address_then_overall_and_only_the_dashboards_forwarded_address_is_believed()
    {
        using var dashboard = _api.CreateClientWithKey(ApiFactory.AdminKey);
        using var anonymous = _api.CreateClient();

        var first = new List<HttpStatusCode>();
        for (var i = 0; i <= PerAddress; i++)
        {
            using var attempt = await LoginAsync(dashboard, "wrong key " + i, "198.51.100.1");
            first.Add(attempt.StatusCode);
            if (attempt.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.InRange(attempt.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));
                Assert.Equal("Too many login attempts", (await attempt.ReadJsonAsync()).GetProperty("title").GetString());
            }
        }

        // An anonymous caller cannot pick the address it is counted under: this is its own address's first attempt.
        using var spoofed = await LoginAsync(anonymous, "wrong key", "198.51.100.1");
        using var secondAddress = await LoginAsync(dashboard, "wrong key", "198.51.100.2");
        using var overallSpent = await LoginAsync(dashboard, ApiFactory.AdminKey, "198.51.100.3");

        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.Unauthorized, PerAddress), HttpStatusCode.TooManyRequests], first);
        Assert.Equal(HttpStatusCode.Unauthorized, spoofed.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, secondAddress.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, overallSpent.StatusCode); // 3 + 1 + 1 = 5 attempts taken overall
        var audited = (await AuditAsync(dashboard, "login.failure")).Count(row => row.GetProperty("forwarded_for").GetString() == "198.51.100.1");
        Assert.Equal(PerAddress, audited); // a throttled attempt is not checked, so not audited
    }

    private static async Task<HttpResponseMessage> LoginAsync(HttpClient client, string key, string forwardedFor)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/admin/login") { Content = JsonContent.Create(new { key }) };
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        return await client.SendAsync(request);
    }

    private static async Task<List<JsonElement>> AuditAsync(HttpClient admin, string action) =>
        [.. (await admin.GetFromJsonAsync<JsonElement>($"/v1/admin/audit?limit=500&action={action}")).GetProperty("items").EnumerateArray()];
}
