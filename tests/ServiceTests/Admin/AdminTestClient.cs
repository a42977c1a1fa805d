using System.Net.Http.Json;
using System.Text.Json;
using AspireLlm.Orchestration.Storage;
using AspireLlm.ServiceTests.Api;
using AspireLlm.Tests.Shared;
using Npgsql;

namespace AspireLlm.ServiceTests.Admin;

/// <summary>An admin key of its own, so that a test reads exactly its own audit rows (filtered by actor).</summary>
internal sealed record AdminActor(Guid KeyId, string Prefix, HttpClient Client) : IDisposable
{
    /// <summary>Creates an admin key through the Api with the bootstrap key (itself an audited action).</summary>
    public static async Task<AdminActor> CreateAsync(ApiFactory api, string tenant = "ops")
    {
        using var bootstrap = api.CreateClientWithKey(ApiFactory.AdminKey);
        using var created = await bootstrap.PostAsJsonAsync("/v1/admin/keys", new { tenant_id = tenant, name = "operator", is_admin = true });
        created.EnsureSuccessStatusCode();
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        var details = body.GetProperty("details");
        return new AdminActor(details.GetProperty("id").GetGuid(), details.GetProperty("prefix").GetString()!,
            api.CreateClientWithKey(body.GetProperty("key").GetString()!));
    }

    /// <summary>This actor's audit rows, newest first.</summary>
    public async Task<List<JsonElement>> AuditAsync(string? action = null)
    {
        var page = await Client.GetFromJsonAsync<JsonElement>($"/v1/admin/audit?limit=500&actor={KeyId}" + (action is null ? "" : $"&action={action}"));
        return [.. page.GetProperty("items").EnumerateArray()];
    }

    public void Dispose() => Client.Dispose();
}

internal static class AdminTestData
{
    /// <summary>A new, migrated database on the shared server, for tests that change the admin keys themselves.</summary>
    public static string CreateDatabase(LocalInfrastructure infrastructure)
    {
        var builder = new NpgsqlConnectionStringBuilder(infrastructure.DatabaseConnectionString)
        {
            Database = "llmdb_" + Guid.NewGuid().ToString("N")[..12],
        };
        DatabaseMigrator.Migrate(builder.ConnectionString, TextWriter.Null);
        return builder.ConnectionString;
    }

    public static async Task<List<JsonElement>> AuditOfTargetAsync(HttpClient admin, string target, string? action = null)
    {
        var page = await admin.GetFromJsonAsync<JsonElement>("/v1/admin/audit?limit=500" + (action is null ? "" : $"&action={action}"));
        return [.. page.GetProperty("items").EnumerateArray().Where(row => row.GetProperty("target").GetString() == target)];
    }

    public static Guid IdOf(this JsonElement created) => created.GetProperty("details").GetProperty("id").GetGuid();
}
