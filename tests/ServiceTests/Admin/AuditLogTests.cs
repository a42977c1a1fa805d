using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AspireLlm.ServiceTests.Api;
using AspireLlm.Tests.Shared;
using Npgsql;

namespace AspireLlm.ServiceTests.Admin;

/// <summary>Every admin change leaves exactly one audit row, readable page by page and never changeable.</summary>
[Collection(ServiceCollection.Name)]
public sealed class AuditLogTests(LocalInfrastructure infrastructure) : IAsyncLifetime
{
    private readonly ApiFactory _api = new(infrastructure);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task Each_key_and_tenant_change_writes_one_row_with_actor_action_and_target()
    {
        using var actor = await AdminActor.CreateAsync(_api);
        var tenant = "tenant-audit-" + Guid.NewGuid().ToString("N")[..6];

        using var created = await actor.Client.PostAsJsonAsync("/v1/admin/keys", new { tenant_id = tenant, name = "audited", requests_per_minute = 10 });
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        var id = body.IdOf();
        var plainKey = body.GetProperty("key").GetString()!;
        using var updated = await actor.Client.PutAsJsonAsync($"/v1/admin/keys/{id}", new { name = "audited", requests_per_minute = 20 });
        using var unchanged = await actor.Client.PutAsJsonAsync($"/v1/admin/keys/{id}", new { name = "audited", requests_per_minute = 20 });
        using var revoked = await actor.Client.PostAsync($"/v1/admin/keys/{id}/revoke", null);
        using var revokedAgain = await actor.Client.PostAsync($"/v1/admin/keys/{id}/revoke", null);
        using var limits = await actor.Client.PutAsJsonAsync($"/v1/admin/tenants/{tenant}/limits", new { requests_per_minute = 100 });
        using var defaults = await actor.Client.PutAsJsonAsync($"/v1/admin/tenants/{tenant}/key-defaults", new { requests_per_minute = 5 });
        using var cleared = await actor.Client.DeleteAsync($"/v1/admin/tenants/{tenant}/key-defaults");

        Assert.All([created, updated, unchanged, revoked, revokedAgain, limits, defaults, cleared], response => Assert.True(response.IsSuccessStatusCode));
        var rows = await actor.AuditAsync();
        Assert.Equal(
            ["tenant.key_defaults", "tenant.key_defaults", "tenant.limits", "key.revoke", "key.update", "key.create"],
            rows.Select(row => row.GetProperty("action").GetString()));
        Assert.All(rows, row =>
        {
            Assert.Equal(actor.KeyId, row.GetProperty("actor_key_id").GetGuid());
            Assert.Equal(actor.Prefix, row.GetProperty("actor_prefix").GetString());
            Assert.DoesNotContain(plainKey, row.GetRawText());
        });
        Assert.Equal([$"tenant:{tenant}", $"tenant:{tenant}", $"tenant:{tenant}", $"key:{id}", $"key:{id}", $"key:{id}"],
            rows.Select(row => row.GetProperty("target").GetString()));

        var change = rows[4].GetProperty("details").GetProperty("changes");
        Assert.Equal(10, change.GetProperty("requests_per_minute").GetProperty("from").GetInt32());
        Assert.Equal(20, change.GetProperty("requests_per_minute").GetProperty("to").GetInt32());
        Assert.False(change.TryGetProperty("name", out _));
        Assert.Equal(tenant, rows[5].GetProperty("details").GetProperty("tenant_id").GetString());
        Assert.True(rows[0].GetProperty("details").GetProperty("cleared").GetBoolean());
    }

    [Fact]
    public async Task An_operators_job_cancel_and_retry_write_one_row_each_and_refusals_none()
    {
        using var actor = await AdminActor.CreateAsync(_api);
        using var tenant = await _api.CreateTenantClientAsync("tenant-audit-jobs");
        using var submitted = await tenant.PostJobAsync(JobRequests.Chat("for the audit"));
        var job = (await submitted.ReadJsonAsync()).GetProperty("id").GetGuid();

        using var cancelled = await actor.Client.PostAsync($"/v1/admin/jobs/{job}/cancel", null);
        using var cancelledAgain = await actor.Client.PostAsync($"/v1/admin/jobs/{job}/cancel", null);
        using var retried = await actor.Client.PostAsync($"/v1/admin/jobs/{job}/retry", null);
        using var retriedWhilePending = await actor.Client.PostAsync($"/v1/admin/jobs/{job}/retry", null);

        Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, cancelledAgain.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, retried.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, retriedWhilePending.StatusCode);
        var rows = await actor.AuditAsync();
        Assert.Equal(["job.retry", "job.cancel"], rows.Select(row => row.GetProperty("action").GetString()));
        Assert.All(rows, row => Assert.Equal($"job:{job}", row.GetProperty("target").GetString()));
        Assert.Equal("cancelled", rows[1].GetProperty("details").GetProperty("outcome").GetString());
        Assert.Equal("cancelled", rows[0].GetProperty("details").GetProperty("previous_status").GetString());
        Assert.Equal(2, rows[0].GetProperty("details").GetProperty("run").GetInt32());
    }

    [Fact]
    public async Task The_table_refuses_update_delete_and_truncate()
    {
        using var actor = await AdminActor.CreateAsync(_api);
        var before = await AdminTestData.AuditOfTargetAsync(actor.Client, $"key:{actor.KeyId}", "key.create");
        var row = Assert.Single(before).GetProperty("id").GetInt64();

        await using var connection = new NpgsqlConnection(infrastructure.DatabaseConnectionString);
        await connection.OpenAsync();
        foreach (var sql in new[]
                 {
                     $"UPDATE audit_log SET actor_prefix = 'someone else' WHERE id = {row}",
                     $"DELETE FROM audit_log WHERE id = {row}",
                     "TRUNCATE audit_log",
                 })
        {
            await using var command = new NpgsqlCommand(sql, connection);
            var refused = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync());
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
        }

        var after = Assert.Single(await AdminTestData.AuditOfTargetAsync(actor.Client, $"key:{actor.KeyId}", "key.create"));
        Assert.Equal(before[0].GetRawText(), after.GetRawText());
    }

    [Fact]
    public async Task Pages_run_newest_first_by_cursor_without_gaps_or_repeats_and_the_log_cannot_be_changed_through_the_api()
    {
        using var actor = await AdminActor.CreateAsync(_api);
        var tenant = "tenant-audit-pages-" + Guid.NewGuid().ToString("N")[..6];
        for (var i = 1; i <= 5; i++)
        {
            using var response = await actor.Client.PutAsJsonAsync($"/v1/admin/tenants/{tenant}/limits", new { requests_per_minute = i });
            response.EnsureSuccessStatusCode();
        }

        var seen = new List<JsonElement>();
        var pages = 0;
        long? before = null;
        do
        {
            var page = await actor.Client.GetFromJsonAsync<JsonElement>(
                $"/v1/admin/audit?limit=2&actor={actor.KeyId}&action=tenant.limits" + (before is null ? "" : $"&before={before}"));
            seen.AddRange(page.GetProperty("items").EnumerateArray());
            before = page.GetProperty("next_before").ValueKind == JsonValueKind.Null ? null : page.GetProperty("next_before").GetInt64();
            pages++;
        }
        while (before is not null);

        Assert.Equal(3, pages);
        Assert.Equal([5, 4, 3, 2, 1], seen.Select(row => row.GetProperty("details").GetProperty("limits").GetProperty("requests_per_minute").GetInt32()));
        var ids = seen.Select(row => row.GetProperty("id").GetInt64()).ToList();
        Assert.Equal(ids.OrderDescending(), ids);

        using var byPrefix = await actor.Client.GetAsync($"/v1/admin/audit?actor={actor.Prefix}&action=tenant.limits");
        Assert.Equal(5, (await byPrefix.ReadJsonAsync()).GetProperty("items").GetArrayLength());

        using var badLimit = await actor.Client.GetAsync("/v1/admin/audit?limit=0");
        using var put = await actor.Client.PutAsJsonAsync("/v1/admin/audit", new { });
        using var delete = await actor.Client.DeleteAsync("/v1/admin/audit");
        using var tenantKey = await _api.CreateTenantClientAsync(tenant);
        using var forbidden = await tenantKey.GetAsync("/v1/admin/audit");
        Assert.Equal(HttpStatusCode.BadRequest, badLimit.StatusCode);
        Assert.Equal("application/problem+json", badLimit.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, put.StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, delete.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
    }
}
