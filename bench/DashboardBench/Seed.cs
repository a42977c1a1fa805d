using System.Diagnostics;
using Npgsql;

namespace AspireLlm.DashboardBench;

/// <summary>How much data the benchmark puts in the database before it times the pages.</summary>
internal sealed record SeedSize(int Keys, int Tenants, int LedgerRows, int Jobs, int Days, int AuditRows);

/// <summary>
/// Fills the database the way a busy installation would have filled it, with set-based SQL
/// (generate_series, no round trip per row): API keys over tenants, jobs over the last
/// <see cref="SeedSize.Days"/> days (old ones with their content erased, as the retention purge
/// leaves them), a usage ledger of gateway minutes and job rows (its trigger keeps usage_daily, as
/// in production), the per-minute and per-hour metric rollups of about 80 series, audit rows and the
/// Hangfire server heartbeats of two Workers.
/// </summary>
internal static class Seed
{
    /// <summary>Model aliases and their two deployments each (the Api is configured with the same catalog).</summary>
    public static readonly string[] Aliases = ["gpt-4o-mini", "gpt-4o", "claude-sonnet", "claude-haiku"];

    public static IEnumerable<string> Deployments => Aliases.SelectMany(alias => new[] { $"sim-{alias}-a", $"sim-{alias}-b" });

    /// <summary>The id the seed gives job number <paramref name="n"/> (1-based; the highest is the newest).</summary>
    public static Guid JobId(int n) => new(Convert.FromHexString(Md5Hex("job" + n)), bigEndian: true);

    public static async Task RunAsync(string connectionString, SeedSize size)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        async Task StepAsync(string what, string sql)
        {
            var watch = Stopwatch.StartNew();
            await using var command = dataSource.CreateCommand(sql);
            command.CommandTimeout = 0;
            var rows = await command.ExecuteNonQueryAsync();
            Console.WriteLine($"  {what}: {rows:N0} rows in {watch.Elapsed.TotalSeconds:F1} s");
        }

        var aliases = "ARRAY[" + string.Join(", ", Aliases.Select(a => $"'{a}'")) + "]";
        var (k, t, days) = (size.Keys, size.Tenants, size.Days);
        Console.WriteLine("Seeding:");
        await StepAsync("api_keys", $"""
            INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash, is_admin, created_at, requests_per_minute, tokens_per_minute,
                                  daily_cost_budget, monthly_cost_budget)
            SELECT md5('key' || i)::uuid, 'tenant-' || lpad((i % {t})::text, 4, '0'), 'key ' || i, 'sk-llm-' || substr(md5('prefix' || i), 1, 8),
                   decode(md5('hash' || i), 'hex'), i % 500 = 0, now() - interval '{days + 10} days' + i * interval '1 minute', 600, 1000000,
                   CASE WHEN i % 5 = 0 THEN 5 END, CASE WHEN i % 5 = 0 THEN 100 END
            FROM generate_series(1, {k}) AS i
            """);

        // Jobs, oldest first; all but the newest few finished, and those older than a day have had
        // their content erased by retention (the constraint wants content or an erasure).
        await StepAsync("jobs", $"""
            INSERT INTO jobs (id, tenant_id, api_key_id, kind, status, progress, current_step, steps, legacy_input, usage, error, attempts,
                              request_hash, hangfire_job_id, created_at, started_at, completed_at, updated_at, worker, run, content_erased_at)
            SELECT md5('job' || j)::uuid, 'tenant-' || lpad((key % {t})::text, 4, '0'), md5('key' || key)::uuid,
                   CASE WHEN j % 10 = 0 THEN 'batch' ELSE 'chat.completion' END, status,
                   CASE WHEN status = 'pending' THEN 0 WHEN status = 'processing' THEN 40 ELSE 100 END,
                   CASE WHEN status = 'pending' THEN 'accepted' WHEN status = 'processing' THEN 'calling model' ELSE status END,
                   jsonb_build_array(jsonb_build_object('step', 'accepted', 'at', created),
                                     jsonb_build_object('step', 'dispatched', 'at', created + interval '20 ms'),
                                     jsonb_build_object('step', 'calling model', 'at', created + interval '60 ms', 'attempt', 1),
                                     jsonb_build_object('step', status, 'at', created + interval '1200 ms')),
                   CASE WHEN created > now() - interval '1 day' OR status IN ('pending', 'processing') THEN jsonb_build_object() END,
                   CASE WHEN status = 'completed' THEN jsonb_build_object('prompt_tokens', 200 + j % 800, 'completion_tokens', 50 + j % 300,
                                                                         'total_tokens', 250 + j % 800 + j % 300) END,
                   CASE WHEN status = 'failed' THEN jsonb_build_object('code', 'upstream_error', 'message', 'The provider failed.') END,
                   1, decode(md5('request' || j), 'hex'), j::text, created,
                   CASE WHEN status <> 'pending' THEN created + interval '50 ms' END,
                   CASE WHEN status IN ('completed', 'failed', 'cancelled') THEN created + interval '1200 ms' END,
                   created + interval '1200 ms', CASE WHEN status <> 'pending' THEN 'bench-worker:1' END, 1,
                   CASE WHEN created <= now() - interval '1 day' AND status NOT IN ('pending', 'processing') THEN created + interval '1 day' END
            FROM (SELECT j, 1 + (j * 7919) % {k} AS key,
                         now() - interval '{days} days' * (1 - j::float8 / {size.Jobs}) AS created,
                         CASE WHEN j > {size.Jobs} - 40 THEN 'pending' WHEN j > {size.Jobs} - 60 THEN 'processing'
                              WHEN j % 50 = 0 THEN 'failed' WHEN j % 97 = 0 THEN 'cancelled' ELSE 'completed' END AS status
                  FROM generate_series(1, {size.Jobs}) AS j) AS s
            """);

        // Job rows (one per finished job with usage), then gateway rows (one per key, alias,
        // deployment and minute, standing for 1 to 20 calls) up to the ledger's size.
        await StepAsync("usage_ledger (jobs)", $"""
            INSERT INTO usage_ledger (tenant_id, api_key_id, job_id, run, model_alias, provider_model, input_tokens, output_tokens, cost, created_at, requests, source)
            SELECT j.tenant_id, j.api_key_id, j.id, 1, alias, 'sim-' || alias || '-a', (usage->>'prompt_tokens')::int, (usage->>'completion_tokens')::int,
                   ((usage->>'prompt_tokens')::int * 0.15 + (usage->>'completion_tokens')::int * 0.6) / 1000000, j.completed_at, 1, 'job'
            FROM jobs j CROSS JOIN LATERAL (SELECT ({aliases})[1 + abs(hashtext(j.api_key_id::text)) % {Aliases.Length}] AS alias) AS a
            WHERE j.usage IS NOT NULL
            """);
        await StepAsync("usage_ledger (gateway minutes)", $"""
            INSERT INTO usage_ledger (tenant_id, api_key_id, job_id, run, model_alias, provider_model, input_tokens, output_tokens, cost, created_at, requests, source)
            SELECT 'tenant-' || lpad((key % {t})::text, 4, '0'), md5('key' || key)::uuid, NULL, 1, alias,
                   'sim-' || alias || CASE WHEN g % 10 = 0 THEN '-b' ELSE '-a' END,
                   requests * (200 + g % 800), requests * (50 + g % 300), requests * ((200 + g % 800) * 0.15 + (50 + g % 300) * 0.6) / 1000000,
                   date_trunc('minute', now() - interval '{days} days' * random()), requests, 'gateway'
            FROM (SELECT g, 1 + (g * 104729) % {k} AS key, 1 + g % 20 AS requests FROM generate_series(1, greatest(0, {size.LedgerRows} - (SELECT count(*) FROM usage_ledger))) AS g) AS s
            CROSS JOIN LATERAL (SELECT ({aliases})[1 + abs(hashtext(md5('key' || key)::uuid::text)) % {Aliases.Length}] AS alias) AS a
            """);

        // About 80 series per minute: what a busy cluster's processes add every few seconds.
        var series = string.Join(",\n", SeriesRows());
        var histogram = """
            CASE WHEN typical_ms IS NULL THEN NULL ELSE ARRAY(
                SELECT CASE i - least(63, greatest(0, ceil(ln(typical_ms / 0.5) / ln(1.25))::int))
                            WHEN 0 THEN weight * scale * 5 / 10 WHEN -1 THEN weight * scale * 2 / 10 WHEN 1 THEN weight * scale * 2 / 10
                            WHEN 3 THEN weight * scale - weight * scale * 9 / 10 ELSE 0 END
                FROM generate_series(0, 63) AS i) END
            """;
        foreach (var (table, step, count, scale) in new[] { ("metric_minutes", "1 minute", 3 * 24 * 60, 1), ("metric_hours", "1 hour", (days + 30) * 24, 60) })
        {
            await StepAsync(table, $"""
                WITH series (name, dim1, dim2, dim3, weight, typical_ms, value) AS (VALUES
                {series}),
                shaped AS (SELECT *, {scale}::bigint AS scale FROM series),
                prepared AS (SELECT name, dim1, dim2, dim3, weight * scale AS count, weight * scale * coalesce(typical_ms, value) AS sum, {histogram} AS buckets FROM shaped)
                INSERT INTO {table} (name, bucket, dim1, dim2, dim3, count, sum, buckets)
                SELECT name, date_trunc('{step.Split(' ')[1]}', now()) - n * interval '{step}', dim1, dim2, dim3, count, sum, buckets
                FROM prepared CROSS JOIN generate_series(0, {count - 1}) AS n
                """);
        }

        await StepAsync("audit_log", $"""
            INSERT INTO audit_log (occurred_at, actor_key_id, actor_prefix, action, target, details, client_address, forwarded_for)
            SELECT now() - interval '{days} days' * (1 - a::float8 / {size.AuditRows}), md5('key' || (1 + a % {k}))::uuid, 'sk-llm-' || substr(md5('prefix' || (1 + a % {k})), 1, 8),
                   (ARRAY['key.create', 'key.update', 'job.cancel', 'job.retry', 'login.success', 'tenant.limits'])[1 + a % 6],
                   'key:' || md5('key' || (1 + a % {k}))::uuid, jsonb_build_object('changed', jsonb_build_object('requests_per_minute', jsonb_build_object('from', 600, 'to', 1200))), '10.0.0.' || (a % 250), NULL
            FROM generate_series(1, {size.AuditRows}) AS a
            """);
        await StepAsync("hangfire servers", """
            INSERT INTO hangfire.server (id, data, lastheartbeat)
            SELECT 'bench-worker:' || w || ':' || q || ':' || md5(w || q), json_build_object('WorkerCount', 20, 'Queues', json_build_array(q), 'StartedAt', now() - interval '1 hour')::jsonb, now() at time zone 'utc'
            FROM generate_series(1, 2) AS w, unnest(ARRAY['chat', 'batch']) AS q
            """);
        await StepAsync("vacuum analyze", "VACUUM ANALYZE");
    }

    /// <summary>The metric series of a busy minute: (name, dim1, dim2, dim3, measurements per minute, typical latency in ms or null, value per measurement).</summary>
    private static IEnumerable<string> SeriesRows()
    {
        string Row(string name, string dim1, string dim2, string dim3, int weight, double? ms, double value = 0) =>
            $"('{name}', '{dim1}', '{dim2}', '{dim3}', {weight}::bigint, {(ms is { } m ? m.ToString(System.Globalization.CultureInfo.InvariantCulture) : "NULL")}::float8, {value.ToString(System.Globalization.CultureInfo.InvariantCulture)}::float8)";

        foreach (var (group, code, weight, ms) in new[]
        {
            ("chat", "200", 300, 800.0), ("chat", "429", 5, 2), ("chat", "400", 3, 3), ("chat", "500", 1, 30000), ("chat", "401", 1, 1),
            ("embeddings", "200", 50, 30), ("jobs", "202", 40, 8), ("jobs", "200", 60, 3), ("models", "200", 10, 1), ("admin", "200", 20, 15),
            ("conversations", "200", 20, 900),
        })
        {
            yield return Row("http.requests", group, code[0] + "xx", code, weight, ms);
        }

        foreach (var alias in Aliases)
        {
            foreach (var (suffix, share) in new[] { ("a", 36), ("b", 4) })
            {
                var deployment = $"sim-{alias}-{suffix}";
                yield return Row("llm.attempts", deployment, "ok", alias, share, 750);
                yield return Row("llm.ttft", deployment, "", alias, share / 2, 180);
                yield return Row("llm.tokens", deployment, "input", alias, share, null, 600);
                yield return Row("llm.tokens", deployment, "output", alias, share, null, 180);
                yield return Row("llm.cost", deployment, "", alias, share, null, 0.0002);
            }

            yield return Row("llm.attempts", $"sim-{alias}-a", "rate_limited", alias, 2, 40);
            yield return Row("llm.retries", $"sim-{alias}-a", "rate_limited", "", 2, null, 1);
            foreach (var (outcome, weight) in new[] { ("hit", 12), ("miss", 30), ("bypass", 20) })
            {
                yield return Row("llm.cache", "exact", outcome, alias, weight, null, 1);
            }
        }

        yield return Row("llm.fallbacks", "sim-gpt-4o-a", "rate_limited", "gpt-4o", 1, null, 1);
        yield return Row("llm.fallbacks", "sim-claude-sonnet-a", "breaker_open", "claude-sonnet", 1, null, 1);
        yield return Row("jobs.runs", "chat.completion", "completed", "", 40, 1200);
        yield return Row("jobs.runs", "chat.completion", "failed", "", 1, 5000);
        yield return Row("jobs.runs", "batch", "completed", "", 2, 60000);
        yield return Row("jobs.pickup", "chat.completion", "", "", 40, 25);
        yield return Row("jobs.pickup", "batch", "", "", 2, 30);
        yield return Row("jobs.accepted", "chat.completion", "", "", 40, null, 1);
        yield return Row("jobs.accepted", "batch", "", "", 2, null, 1);
    }

    private static string Md5Hex(string text) => Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(System.Text.Encoding.UTF8.GetBytes(text)));
}
