using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AspireLlm.ServiceTests.Api;
using AspireLlm.Tests.Shared;

namespace AspireLlm.ServiceTests.Admin;

/// <summary>A key created without limits gets its tenant's defaults, or the configured ones; never "unlimited" by omission.</summary>
[Collection(ServiceCollection.Name)]
public sealed class KeyDefaultsTests(LocalInfrastructure infrastructure) : IAsyncLifetime
{
    private readonly ApiFactory _api = new(infrastructure)
    {
        Settings = { ["ApiKeys:DefaultLimits:RequestsPerMinute"] = "60", ["ApiKeys:DefaultLimits:DailyTokenBudget"] = "5000" },
    };

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task A_key_without_limits_gets_the_configured_defaults_and_a_field_sent_overrides_its_default()
    {
        using var admin = _api.CreateClientWithKey(ApiFactory.AdminKey);
        var tenant = "tenant-defaults-" + Guid.NewGuid().ToString("N")[..6];

        var plain = await CreateAsync(admin, new { tenant_id = tenant, name = "plain" });
        var explicitLimits = await CreateAsync(admin, new { tenant_id = tenant, name = "explicit", requests_per_minute = 7, tokens_per_minute = (int?)null });
        var defaults = await admin.GetFromJsonAsync<JsonElement>($"/v1/admin/tenants/{tenant}/key-defaults");

        Assert.Equal(60, plain.GetProperty("requests_per_minute").GetInt32());
        Assert.Equal(1_000_000, plain.GetProperty("tokens_per_minute").GetInt32());
        Assert.Equal(5000, plain.GetProperty("daily_token_budget").GetInt64());
        Assert.Equal(JsonValueKind.Null, plain.GetProperty("monthly_cost_budget").ValueKind);
        Assert.Equal(7, explicitLimits.GetProperty("requests_per_minute").GetInt32());
        Assert.Equal(JsonValueKind.Null, explicitLimits.GetProperty("tokens_per_minute").ValueKind); // sent as null: no limit
        Assert.Equal(5000, explicitLimits.GetProperty("daily_token_budget").GetInt64());
        Assert.Equal("global", defaults.GetProperty("source").GetString());
    }

    [Fact]
    public async Task A_tenants_own_defaults_replace_the_global_ones_until_removed()
    {
        using var admin = _api.CreateClientWithKey(ApiFactory.AdminKey);
        var tenant = "tenant-defaults-" + Guid.NewGuid().ToString("N")[..6];

        using var set = await admin.PutAsJsonAsync($"/v1/admin/tenants/{tenant}/key-defaults", new { requests_per_minute = 30, monthly_cost_budget = 12.5m });
        var own = await CreateAsync(admin, new { tenant_id = tenant, name = "own defaults" });
        var otherTenant = await CreateAsync(admin, new { tenant_id = tenant + "-other", name = "global defaults" });
        using var invalid = await admin.PutAsJsonAsync($"/v1/admin/tenants/{tenant}/key-defaults", new { requests_per_minute = 0 });
        using var removed = await admin.DeleteAsync($"/v1/admin/tenants/{tenant}/key-defaults");
        var afterRemoval = await CreateAsync(admin, new { tenant_id = tenant, name = "global again" });

        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        Assert.Equal(30, own.GetProperty("requests_per_minute").GetInt32());
        Assert.Equal(JsonValueKind.Null, own.GetProperty("tokens_per_minute").ValueKind);
        Assert.Equal(12.5m, own.GetProperty("monthly_cost_budget").GetDecimal());
        Assert.Equal(60, otherTenant.GetProperty("requests_per_minute").GetInt32());
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        Assert.Equal(60, afterRemoval.GetProperty("requests_per_minute").GetInt32());
    }

    [Fact]
    public async Task A_change_sets_the_limits_it_sends_and_keeps_the_others()
    {
        using var admin = _api.CreateClientWithKey(ApiFactory.AdminKey);
        using var created = await admin.PostAsJsonAsync("/v1/admin/keys", new { tenant_id = "tenant-defaults", name = "to change", tokens_per_minute = 900 });
        var id = (await created.ReadJsonAsync()).IdOf();

        using var renamed = await admin.PutAsJsonAsync($"/v1/admin/keys/{id}", new { name = "renamed" });
        using var unlimited = await admin.PutAsJsonAsync($"/v1/admin/keys/{id}", new { name = "renamed", daily_token_budget = (long?)null });
        var limits = (await admin.GetFromJsonAsync<JsonElement>($"/v1/admin/keys/{id}")).GetProperty("limits");

        Assert.Equal(HttpStatusCode.OK, renamed.StatusCode);
        Assert.Equal(60, limits.GetProperty("requests_per_minute").GetInt32());
        Assert.Equal(900, limits.GetProperty("tokens_per_minute").GetInt32());
        Assert.Equal(JsonValueKind.Null, limits.GetProperty("daily_token_budget").ValueKind);
    }

    [Fact]
    public async Task A_bad_default_stops_the_api_at_start_naming_the_setting()
    {
        await using var api = new ApiFactory(infrastructure) { Settings = { ["ApiKeys:DefaultLimits:RequestsPerMinute"] = "0" } };

        var failure = Assert.ThrowsAny<Exception>(() => api.Server);

        Assert.Contains("RequestsPerMinute", failure.ToString());
    }

    private static async Task<JsonElement> CreateAsync(HttpClient admin, object request)
    {
        using var created = await admin.PostAsJsonAsync("/v1/admin/keys", request);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.ReadJsonAsync()).IdOf();
        return (await admin.GetFromJsonAsync<JsonElement>($"/v1/admin/keys/{id}")).GetProperty("limits");
    }
}
