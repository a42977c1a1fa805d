using System.Globalization;
using System.Text;
using AspireLlm.Api.Errors;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace AspireLlm.Api.Admin;

public sealed record UsageRow(string Group, string Label, string TenantId, long Requests, long InputTokens, long OutputTokens, decimal Cost);

public sealed record UsageDay(DateOnly Day, long Requests, long InputTokens, long OutputTokens, decimal Cost);

/// <summary>The budgets of the one key a usage query is filtered to, for the chart's budget line.</summary>
public sealed record UsageBudget(long? DailyTokenBudget, long? MonthlyTokenBudget, decimal? DailyCostBudget, decimal? MonthlyCostBudget);

public sealed record UsageView(
    DateOnly From, DateOnly To, string GroupBy, UsageDay Total, int Groups, IReadOnlyList<UsageRow> Rows, IReadOnlyList<UsageDay> Days, UsageBudget? Budget);

/// <summary>A key's usage today and this month (UTC, as its budgets count), beside its budgets.</summary>
public sealed record KeyUsageView(Guid KeyId, long TokensToday, decimal CostToday, long TokensThisMonth, decimal CostThisMonth);

/// <summary>
/// Usage and cost from the ledger's daily rollup (<c>usage_daily</c>): jobs and gateway calls, per
/// tenant, key, model alias or deployment, by day; as JSON or CSV.
/// </summary>
public static class AdminUsageEndpoints
{
    private static readonly Dictionary<string, string> GroupColumns = new(StringComparer.Ordinal)
    {
        ["tenant"] = "tenant_id", ["key"] = "api_key_id::text", ["alias"] = "model_alias", ["deployment"] = "deployment",
    };

    private static readonly Dictionary<string, string> SortColumns = new(StringComparer.Ordinal)
    {
        ["cost"] = "6", ["requests"] = "3", ["tokens"] = "4 + 5", ["group"] = "1",
    };

    public static RouteGroupBuilder MapAdminUsage(this RouteGroupBuilder group)
    {
        group.MapGet("/usage", ReadAsync).WithName("AdminUsage");
        group.MapGet("/usage/csv", CsvAsync).WithName("AdminUsageCsv");
        group.MapGet("/usage/keys", KeysAsync).WithName("AdminKeyUsage");
        return group;
    }

    /// <summary>The filter every usage read takes: days [from, to] (UTC, default the last 30), and optionally one tenant, key, alias or deployment.</summary>
    public sealed record UsageQuery(
        DateOnly? From = null, DateOnly? To = null, string? GroupBy = null, string? TenantId = null, Guid? KeyId = null, string? ModelAlias = null,
        string? Deployment = null, string? Sort = null, int Limit = 50, int Offset = 0);

    internal static async Task<Results<Ok<UsageView>, ProblemHttpResult>> ReadAsync(
        NpgsqlDataSource dataSource, TimeProvider timeProvider, CancellationToken cancellationToken,
        DateOnly? from = null, DateOnly? to = null, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "group_by")] string? groupBy = null,
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "tenant_id")] string? tenantId = null, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "key_id")] Guid? keyId = null,
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "model_alias")] string? modelAlias = null, string? deployment = null, string? sort = null,
        int limit = 50, int offset = 0)
    {
        var query = new UsageQuery(from, to, groupBy, tenantId, keyId, modelAlias, deployment, sort, limit, offset);
        if (Validate(query, timeProvider) is { } problem)
        {
            return problem;
        }

        var (first, last) = Days(query, timeProvider);
        var group = GroupColumns[query.GroupBy ?? "key"];
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(Filtered($"""
            SELECT {group}, min(tenant_id), sum(requests)::bigint, sum(input_tokens)::bigint, sum(output_tokens)::bigint, sum(cost), count(*) OVER ()
            FROM usage_daily {Where} GROUP BY 1 ORDER BY {SortColumns[query.Sort ?? "cost"]} {(query.Sort == "group" ? "ASC" : "DESC")}, 1
            LIMIT {query.Limit} OFFSET {query.Offset}
            """, query, first, last));
        batch.BatchCommands.Add(Filtered($"""
            SELECT day, sum(requests)::bigint, sum(input_tokens)::bigint, sum(output_tokens)::bigint, sum(cost)
            FROM usage_daily {Where} GROUP BY 1 ORDER BY 1
            """, query, first, last));
        var rows = new List<UsageRow>();
        var days = new List<UsageDay>();
        var groups = 0;
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var key = reader.GetString(0);
                rows.Add(new UsageRow(key, key, reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetDecimal(5)));
                groups = (int)reader.GetInt64(6);
            }

            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                days.Add(new UsageDay(DateOnly.FromDateTime(reader.GetDateTime(0)), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetDecimal(4)));
            }
        }

        UsageBudget? budget = null;
        if (query.GroupBy is null or "key" && rows.Count > 0 || query.KeyId is not null)
        {
            var keys = await KeyLabelsAsync(dataSource, [.. rows.Select(r => Guid.Parse(r.Group)).Concat(query.KeyId is { } id ? [id] : [])], cancellationToken);
            if (query.GroupBy is null or "key")
            {
                rows = [.. rows.Select(r => keys.TryGetValue(Guid.Parse(r.Group), out var k) ? r with { Label = $"{k.Name} ({k.Prefix}…)" } : r)];
            }

            budget = query.KeyId is { } keyFilter && keys.TryGetValue(keyFilter, out var filtered) ? filtered.Budget : null;
        }

        var total = new UsageDay(first, days.Sum(d => d.Requests), days.Sum(d => d.InputTokens), days.Sum(d => d.OutputTokens), days.Sum(d => d.Cost));
        return TypedResults.Ok(new UsageView(first, last, query.GroupBy ?? "key", total, groups, rows, days, budget));
    }

    /// <summary>The same figures as CSV, one line per day and group, for a spreadsheet or a billing system.</summary>
    internal static async Task<Results<FileContentHttpResult, ProblemHttpResult>> CsvAsync(
        NpgsqlDataSource dataSource, TimeProvider timeProvider, CancellationToken cancellationToken,
        DateOnly? from = null, DateOnly? to = null, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "group_by")] string? groupBy = null,
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "tenant_id")] string? tenantId = null, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "key_id")] Guid? keyId = null,
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "model_alias")] string? modelAlias = null, string? deployment = null)
    {
        var query = new UsageQuery(from, to, groupBy, tenantId, keyId, modelAlias, deployment);
        if (Validate(query, timeProvider) is { } problem)
        {
            return problem;
        }

        var (first, last) = Days(query, timeProvider);
        var groupName = query.GroupBy ?? "key";
        await using var command = Command(dataSource, Filtered($"""
            SELECT day, {GroupColumns[groupName]}, min(tenant_id), sum(requests)::bigint, sum(input_tokens)::bigint, sum(output_tokens)::bigint, sum(cost)
            FROM usage_daily {Where} GROUP BY 1, 2 ORDER BY 1, 2
            """, query, first, last));
        var csv = new StringBuilder($"day,{groupName},tenant_id,requests,input_tokens,output_tokens,cost_usd\n");
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                csv.Append(CultureInfo.InvariantCulture, $"{reader.GetDateTime(0):yyyy-MM-dd},{Cell(reader.GetString(1))},{Cell(reader.GetString(2))},")
                   .Append(CultureInfo.InvariantCulture, $"{reader.GetInt64(3)},{reader.GetInt64(4)},{reader.GetInt64(5)},{reader.GetDecimal(6):0.########}\n");
            }
        }

        return TypedResults.File(Encoding.UTF8.GetBytes(csv.ToString()), "text/csv; charset=utf-8", $"usage-{first:yyyyMMdd}-{last:yyyyMMdd}-by-{groupName}.csv");
    }

    /// <summary>Every key's usage today and this month (UTC), for the keys page's "used of budget".</summary>
    internal static async Task<Ok<IReadOnlyList<KeyUsageView>>> KeysAsync(NpgsqlDataSource dataSource, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var today = DateOnly.FromDateTime(timeProvider.GetUtcNow().UtcDateTime);
        await using var command = dataSource.CreateCommand("""
            SELECT api_key_id,
                   coalesce(sum(input_tokens + output_tokens) FILTER (WHERE day = $2), 0)::bigint, coalesce(sum(cost) FILTER (WHERE day = $2), 0),
                   sum(input_tokens + output_tokens)::bigint, sum(cost)
            FROM usage_daily WHERE day >= $1 GROUP BY 1
            """);
        command.Parameters.AddWithValue(new DateOnly(today.Year, today.Month, 1));
        command.Parameters.AddWithValue(today);
        var usage = new List<KeyUsageView>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            usage.Add(new KeyUsageView(reader.GetGuid(0), reader.GetInt64(1), reader.GetDecimal(2), reader.GetInt64(3), reader.GetDecimal(4)));
        }

        return TypedResults.Ok<IReadOnlyList<KeyUsageView>>(usage);
    }

    private const string Where = """
        WHERE day BETWEEN $1 AND $2 AND ($3::text IS NULL OR tenant_id = $3) AND ($4::uuid IS NULL OR api_key_id = $4)
          AND ($5::text IS NULL OR model_alias = $5) AND ($6::text IS NULL OR deployment = $6)
        """;

    private static NpgsqlBatchCommand Filtered(string sql, UsageQuery query, DateOnly first, DateOnly last) => new(sql)
    {
        Parameters =
        {
            new NpgsqlParameter { Value = first },
            new NpgsqlParameter { Value = last },
            new NpgsqlParameter { Value = (object?)Blank(query.TenantId) ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text },
            new NpgsqlParameter { Value = (object?)query.KeyId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid },
            new NpgsqlParameter { Value = (object?)Blank(query.ModelAlias) ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text },
            new NpgsqlParameter { Value = (object?)Blank(query.Deployment) ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text },
        },
    };

    private static NpgsqlCommand Command(NpgsqlDataSource dataSource, NpgsqlBatchCommand source)
    {
        var command = dataSource.CreateCommand(source.CommandText);
        foreach (NpgsqlParameter parameter in source.Parameters)
        {
            command.Parameters.Add(parameter.Clone());
        }

        return command;
    }

    private static async Task<Dictionary<Guid, (string Name, string Prefix, UsageBudget Budget)>> KeyLabelsAsync(
        NpgsqlDataSource dataSource, Guid[] ids, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT id, name, prefix, daily_token_budget, monthly_token_budget, daily_cost_budget, monthly_cost_budget FROM api_keys WHERE id = ANY($1)
            """);
        command.Parameters.AddWithValue(ids);
        var keys = new Dictionary<Guid, (string, string, UsageBudget)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            keys[reader.GetGuid(0)] = (reader.GetString(1), reader.GetString(2), new UsageBudget(
                reader.IsDBNull(3) ? null : reader.GetInt64(3), reader.IsDBNull(4) ? null : reader.GetInt64(4),
                reader.IsDBNull(5) ? null : reader.GetDecimal(5), reader.IsDBNull(6) ? null : reader.GetDecimal(6)));
        }

        return keys;
    }

    private static ProblemHttpResult? Validate(UsageQuery query, TimeProvider timeProvider)
    {
        var errors = new Dictionary<string, string[]>();
        if (query.GroupBy is not null && !GroupColumns.ContainsKey(query.GroupBy))
        {
            errors["group_by"] = [$"One of {string.Join(", ", GroupColumns.Keys)}."];
        }

        if (query.Sort is not null && !SortColumns.ContainsKey(query.Sort))
        {
            errors["sort"] = [$"One of {string.Join(", ", SortColumns.Keys)}."];
        }

        if (query.Limit is < 1 or > 1000 || query.Offset is < 0 or > 1_000_000)
        {
            errors["limit"] = ["The limit must be between 1 and 1000, the offset at least 0."];
        }

        var (first, last) = Days(query, timeProvider);
        if (last < first || last.DayNumber - first.DayNumber > 400)
        {
            errors["from"] = ["'from' must not be after 'to', and the span at most 400 days."];
        }

        return errors.Count > 0 ? Problems.Validation(errors) : null;
    }

    private static (DateOnly First, DateOnly Last) Days(UsageQuery query, TimeProvider timeProvider)
    {
        var last = query.To ?? DateOnly.FromDateTime(timeProvider.GetUtcNow().UtcDateTime);
        return (query.From ?? last.AddDays(-29), last);
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    /// <summary>A CSV cell: quoted when it holds a separator, a quote or a line break; never starting a formula.</summary>
    private static string Cell(string value)
    {
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@')
        {
            value = "'" + value;
        }

        return value.AsSpan().IndexOfAny(",\"\n\r") >= 0 ? "\"" + value.Replace("\"", "\"\"") + "\"" : value;
    }
}
