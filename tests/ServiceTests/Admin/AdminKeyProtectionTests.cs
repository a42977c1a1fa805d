using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AspireLlm.Api.ApiKeys;
using AspireLlm.ServiceTests.Api;
using AspireLlm.Tests.Shared;
using AspireLlm.Api.Audit;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace AspireLlm.ServiceTests.Admin;

/// <summary>Operators cannot lock themselves out: the last admin key stays, and the configured one is always valid.</summary>
[Collection(ServiceCollection.Name)]
public sealed class AdminKeyProtectionTests(LocalInfrastructure infrastructure)
{
    private const string RotatedKey = "test-rotated-admin-key-0123456789";

    [Fact]
    public async Task The_configured_bootstrap_key_cannot_be_revoked_through_the_api()
    {
        await using var api = new ApiFactory(infrastructure);
        using var admin = api.CreateClientWithKey(ApiFactory.AdminKey);
        var keys = await admin.GetFromJsonAsync<JsonElement>("/v1/admin/keys?tenant_id=admin");
        var bootstrap = Assert.Single(keys.EnumerateArray(), key => key.GetProperty("is_bootstrap").GetBoolean());

        using var refused = await admin.PostAsync($"/v1/admin/keys/{bootstrap.GetProperty("id").GetGuid()}/revoke", null);
        using var stillValid = await admin.GetAsync("/v1/admin/keys");

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("rotate the admin-key parameter", (await refused.ReadJsonAsync()).GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.OK, stillValid.StatusCode);
    }

    [Fact]
    public async Task The_last_active_admin_key_cannot_be_revoked_even_when_the_last_two_are_revoked_at_once()
    {
        // No bootstrap key here: otherwise it would always be another active admin key.
        await using var factory = new ApiFactory(AdminTestData.CreateDatabase(infrastructure), infrastructure.RedisConnectionString);
        await using var api = factory.WithWebHostBuilder(builder =>
            builder.ConfigureTestServices(services => services.PostConfigure<AdminOptions>(options => options.BootstrapKey = null)));
        var store = api.Services.GetRequiredService<ApiKeyStore>();
        var survivorKey = ApiKeyFormat.Generate();
        await store.EnsureAsync(survivorKey, "ops", "first operator", isAdmin: true, CancellationToken.None);
        var survivor = (await store.FindAsync(survivorKey, CancellationToken.None))!.Id;

        // Two operators revoking the last two admin keys at the same moment: one of them must lose, every time.
        var outcomes = new List<RevokeOutcome>();
        for (var round = 0; round < 5; round++)
        {
            using var client = ClientWithKey(api, survivorKey);
            var (other, otherKey) = await CreateAdminKeyAsync(client);
            var revoked = await Task.WhenAll(
                Task.Run(() => store.RevokeAsync(survivor, AuditActor.System, CancellationToken.None)),
                Task.Run(() => store.RevokeAsync(other, AuditActor.System, CancellationToken.None)));
            outcomes.AddRange(revoked);
            (survivor, survivorKey) = revoked[0] == RevokeOutcome.LastAdminKey ? (survivor, survivorKey) : (other, otherKey);
        }

        using var last = ClientWithKey(api, survivorKey);
        using var refused = await last.PostAsync($"/v1/admin/keys/{survivor}/revoke", null);

        Assert.Equal(5, outcomes.Count(outcome => outcome == RevokeOutcome.Revoked));
        Assert.Equal(5, outcomes.Count(outcome => outcome == RevokeOutcome.LastAdminKey));
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal("The last admin key cannot be revoked", (await refused.ReadJsonAsync()).GetProperty("title").GetString());
        Assert.Equal(survivor, Assert.Single(await store.ListAsync(null, CancellationToken.None), key => key.IsAdmin && key.RevokedAt is null).Id);
    }

    [Fact]
    public async Task A_revoked_bootstrap_key_is_valid_again_after_a_restart_and_the_restore_is_audited_once()
    {
        var database = AdminTestData.CreateDatabase(infrastructure);
        await Start(database, ApiFactory.AdminKey).DisposeAsync();

        // As the defect left it: revoked in the database, which the Api now refuses to do itself.
        await ExecuteAsync(database, "UPDATE api_keys SET revoked_at = now() WHERE is_bootstrap");
        await using var restarted = Start(database, ApiFactory.AdminKey);
        await Start(database, ApiFactory.AdminKey).DisposeAsync(); // a start with nothing to change

        using var admin = restarted.CreateClientWithKey(ApiFactory.AdminKey);
        var audit = await admin.GetFromJsonAsync<JsonElement>("/v1/admin/audit?actor=system&action=key.bootstrap");
        Assert.Equal(["restored", "stored"], audit.GetProperty("items").EnumerateArray()
            .Select(row => row.GetProperty("details").GetProperty("change").GetString()));
        var key = Assert.Single((await admin.GetFromJsonAsync<JsonElement>("/v1/admin/keys")).EnumerateArray());
        Assert.False(key.GetProperty("revoked").GetBoolean());
        Assert.True(key.GetProperty("is_bootstrap").GetBoolean());
    }

    [Fact]
    public async Task Configuring_another_admin_key_revokes_the_previous_bootstrap_key()
    {
        var database = AdminTestData.CreateDatabase(infrastructure);
        await Start(database, ApiFactory.AdminKey).DisposeAsync();

        await using var rotated = Start(database, RotatedKey);
        using var oldKey = rotated.CreateClientWithKey(ApiFactory.AdminKey);
        using var newKey = rotated.CreateClientWithKey(RotatedKey);
        using var refused = await oldKey.GetAsync("/v1/admin/keys");
        var keys = (await newKey.GetFromJsonAsync<JsonElement>("/v1/admin/keys")).EnumerateArray().ToList();
        var rotation = Assert.Single((await newKey.GetFromJsonAsync<JsonElement>("/v1/admin/audit?action=key.rotate"))
            .GetProperty("items").EnumerateArray());

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        var previous = Assert.Single(keys, key => key.GetProperty("prefix").GetString() == ApiKeyFormat.PublicPrefix(ApiFactory.AdminKey));
        var current = Assert.Single(keys, key => key.GetProperty("prefix").GetString() == ApiKeyFormat.PublicPrefix(RotatedKey));
        Assert.True(previous.GetProperty("revoked").GetBoolean());
        Assert.False(previous.GetProperty("is_bootstrap").GetBoolean());
        Assert.True(current.GetProperty("is_bootstrap").GetBoolean());
        Assert.Equal($"key:{previous.GetProperty("id").GetGuid()}", rotation.GetProperty("target").GetString());
        Assert.Equal("system", rotation.GetProperty("actor_prefix").GetString());
        Assert.Equal($"key:{current.GetProperty("id").GetGuid()}", rotation.GetProperty("details").GetProperty("replaced_by").GetString());
    }

    private ApiFactory Start(string database, string bootstrapKey)
    {
        var api = new ApiFactory(database, infrastructure.RedisConnectionString) { Settings = { ["Admin:BootstrapKey"] = bootstrapKey } };
        _ = api.Server; // starts the host, and with it the bootstrap
        return api;
    }

    private static async Task<(Guid Id, string Key)> CreateAdminKeyAsync(HttpClient admin)
    {
        using var created = await admin.PostAsJsonAsync("/v1/admin/keys", new { tenant_id = "ops", name = "operator", is_admin = true });
        var body = await created.ReadJsonAsync();
        return (body.IdOf(), body.GetProperty("key").GetString()!);
    }

    private static HttpClient ClientWithKey(WebApplicationFactory<Program> api, string key)
    {
        var client = api.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", key);
        return client;
    }

    private static async Task ExecuteAsync(string database, string sql)
    {
        await using var dataSource = NpgsqlDataSource.Create(database);
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
