using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace AspireLlm.ServiceTests.Hostile;

/// <summary>Hostile paths, query strings and headers on every route: a clear 4xx in the route's error shape.</summary>
[Collection(HostileCollection.Name)]
public sealed class HostileRouteTests(HostileApi api)
{
    private static readonly string[] BadIds =
        ["not-a-guid", "..%2F..%2Fetc%2Fpasswd", new string('9', 5_000), "00000000-0000-0000-0000-000000000000", "%F0%9F%98%80", "'%20OR%201=1--"];

    [Fact]
    public async Task Ids_that_are_not_ours_are_not_found_in_the_route_familys_shape()
    {
        using var tenant = api.Client(api.TenantKey);
        using var admin = api.Client(HostileApi.AdminKey);
        var problems = new List<string>();
        foreach (var id in BadIds)
        {
            foreach (var (client, method, path, openAi) in new (HttpClient, HttpMethod, string, bool)[]
            {
                (tenant, HttpMethod.Get, $"/v1/jobs/{id}", false),
                (tenant, HttpMethod.Get, $"/v1/jobs/{id}/events", false),
                (tenant, HttpMethod.Post, $"/v1/jobs/{id}/cancel", false),
                (tenant, HttpMethod.Delete, $"/v1/jobs/{id}", false),
                (tenant, HttpMethod.Get, $"/v1/conversations/{id}", true),
                (tenant, HttpMethod.Post, $"/v1/conversations/{id}/messages", true),
                (tenant, HttpMethod.Delete, $"/v1/conversations/{id}", true),
                (admin, HttpMethod.Get, $"/v1/admin/jobs/{id}", false),
                (admin, HttpMethod.Post, $"/v1/admin/jobs/{id}/retry", false),
                (admin, HttpMethod.Get, $"/v1/admin/keys/{id}", false),
                (admin, HttpMethod.Post, $"/v1/admin/keys/{id}/revoke", false),
            })
            {
                var content = method == HttpMethod.Post ? new StringContent("""{"content":"hi"}""", Encoding.UTF8, "application/json") : null;
                var answer = await HostileRequests.SendAsync(client, method, path, content);
                if (HostileRequests.Problem(answer, openAi, mustRefuse: true) is { } problem)
                {
                    problems.Add($"{method} {path[..Math.Min(path.Length, 80)]}: {problem}");
                }
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Theory]
    [InlineData("GET", "/v1/nothing-here", true)]
    [InlineData("POST", "/v1/responses", true)]
    [InlineData("GET", "/v1/chat/completions", true)]
    [InlineData("DELETE", "/v1/models", true)]
    [InlineData("PATCH", "/v1/jobs", false)]
    [InlineData("GET", "/v1/admin/jobs?limit=-1", false)]
    [InlineData("GET", "/v1/admin/jobs?limit=abc", false)]
    [InlineData("GET", "/v1/admin/jobs?limit=99999999999999999999", false)]
    [InlineData("GET", "/v1/admin/audit?limit=0", false)]
    [InlineData("GET", "/v1/admin/audit?before=-5", false)]
    [InlineData("GET", "/nothing-here", false)]
    public async Task Unknown_routes_methods_and_bad_queries_are_refused_in_shape(string method, string path, bool openAi)
    {
        using var admin = api.Client(HostileApi.AdminKey);
        var answer = await HostileRequests.SendAsync(admin, new HttpMethod(method), path, null);

        Assert.Null(HostileRequests.Problem(answer, openAi, mustRefuse: true));
    }

    [Theory]
    [InlineData("Basic dXNlcjpwYXNz")]
    [InlineData("Bearer")]
    [InlineData("Bearer    ")]
    [InlineData("Bearer sk-llm-0000000000000000000000000000000000000000")]
    [InlineData("Bearer ' OR 1=1 --")]
    public async Task Bad_credentials_get_401_in_shape(string authorization)
    {
        using var client = api.Client(null);
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", authorization);
        var openAi = await HostileRequests.SendAsync(client, HttpMethod.Get, "/v1/models", null);
        var problem = await HostileRequests.SendAsync(client, HttpMethod.Get, "/v1/jobs/00000000-0000-0000-0000-000000000000", null);

        Assert.Equal(HttpStatusCode.Unauthorized, openAi.Status);
        Assert.Null(HostileRequests.ShapeProblem(openAi, speaksOpenAi: true));
        Assert.Equal(HttpStatusCode.Unauthorized, problem.Status);
        Assert.Null(HostileRequests.ShapeProblem(problem, speaksOpenAi: false));
    }

    [Fact]
    public async Task Oversized_headers_are_refused_before_any_work()
    {
        using var client = api.Client(api.TenantKey);
        client.DefaultRequestHeaders.TryAddWithoutValidation("X-Padding", new string('a', 64 * 1024));
        var answer = await HostileRequests.SendAsync(client, HttpMethod.Get, "/v1/models", null);

        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, answer.Status);
    }

    [Theory]
    [InlineData("Idempotency-Key", "has spaces in it", "/v1/jobs", false)]
    [InlineData("Idempotency-Key", "", "/v1/chat/completions", true)]
    public async Task Bad_idempotency_keys_are_400(string header, string value, string path, bool openAi)
    {
        using var client = api.Client(api.TenantKey);
        var key = value.Length == 0 ? new string('k', 300) : value;
        using var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(
                openAi ? """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]}"""
                       : """{"kind":"chat.completion","input":{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]}}""",
                Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation(header, Encoding.Latin1.GetString(Encoding.UTF8.GetBytes(key)));
        using var response = await client.SendAsync(request);
        var answer = new HostileAnswer(response.StatusCode, response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsStringAsync(), TimeSpan.Zero);

        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Null(HostileRequests.ShapeProblem(answer, openAi));
    }

    [Theory]
    [InlineData("GET /v1/jobs/%00 HTTP/1.1")]
    [InlineData("GET /v1/models HTTP/1.1\r\nAuthorization: Bearer sk-llm-\u00e9\u00e9")]
    [InlineData("POST /v1/jobs HTTP/1.1\r\nIdempotency-Key: \u00e9-not-ascii\r\nContent-Length: 2")]
    [InlineData("GET /v1/models HTTP/1.1\r\nX-Bad\u0001Header: 1")]
    public async Task Requests_broken_at_the_protocol_level_get_kestrels_own_400(string head)
    {
        // Kestrel refuses these before any of our code runs: its bare 400 is the answer, with no shape to check.
        using var raw = await RawHttp.ConnectAsync(api.BaseAddress);
        await raw.SendAsync(Encoding.UTF8.GetBytes(head.Replace("HTTP/1.1", "HTTP/1.1\r\nHost: localhost", StringComparison.Ordinal) + "\r\n\r\n{}"));
        var answer = await raw.ReadResponseAsync(TimeSpan.FromSeconds(10));

        Assert.True(answer is null || answer.Status is >= 400 and < 500, $"answered {answer?.Status}");
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("abc")]
    [InlineData("99999999999999999999999")]
    public async Task A_bad_last_event_id_is_400(string lastEventId)
    {
        using var client = api.Client(api.TenantKey);
        using var submitted = await client.PostAsync("/v1/jobs", new StringContent(
            """{"kind":"chat.completion","input":{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]}}""", Encoding.UTF8, "application/json"));
        var id = System.Text.Json.JsonDocument.Parse(await submitted.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/jobs/{id}/events");
        request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
