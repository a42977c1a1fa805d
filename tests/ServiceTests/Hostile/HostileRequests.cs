using System.Net;
using System.Text;
using System.Text.Json;

namespace AspireLlm.ServiceTests.Hostile;

/// <summary>A route as a hostile client sees it: how to reach it, and which error shape it owes.</summary>
public sealed record HostileRoute(string Method, string Path, bool SpeaksOpenAi, bool Admin = false)
{
    public override string ToString() => $"{Method} {Path}";
}

/// <summary>A body no client should send, and whether the route may still accept it (well-formed but odd) or must refuse it.</summary>
public sealed record HostileBody(string Name, Func<HttpContent> Content, bool MustRefuse = true)
{
    public override string ToString() => Name;
}

/// <summary>What was answered, and how long it took.</summary>
public sealed record HostileAnswer(HttpStatusCode Status, string? MediaType, string Body, TimeSpan Elapsed);

/// <summary>The catalogue of bad input: every public JSON route, every kind of body a parser can choke on.</summary>
public static class HostileRequests
{
    /// <summary>Every route that reads a JSON body; <c>{conversation}</c> and <c>{key}</c> stand for ids of the fixture's.</summary>
    public static readonly HostileRoute[] JsonRoutes =
    [
        new("POST", "/v1/chat/completions", SpeaksOpenAi: true),
        new("POST", "/v1/embeddings", SpeaksOpenAi: true),
        new("POST", "/v1/conversations", SpeaksOpenAi: true),
        new("POST", "/v1/conversations/{conversation}/messages", SpeaksOpenAi: true),
        new("POST", "/v1/jobs", SpeaksOpenAi: false),
        // An agent task's answer: the body is read (and refused) before the task is looked up.
        new("POST", "/v1/jobs/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/input", SpeaksOpenAi: false),
        new("POST", "/v1/admin/keys", SpeaksOpenAi: false, Admin: true),
        new("PUT", "/v1/admin/keys/{key}", SpeaksOpenAi: false, Admin: true),
        new("PUT", "/v1/admin/tenants/hostile-tenant/limits", SpeaksOpenAi: false, Admin: true),
        new("PUT", "/v1/admin/tenants/hostile-tenant/key-defaults", SpeaksOpenAi: false, Admin: true),
        new("POST", "/v1/admin/login", SpeaksOpenAi: false, Admin: true),
    ];

    /// <summary>Bodies that are wrong for every route: each must get a 4xx in the route's error shape.</summary>
    public static IEnumerable<HostileBody> Malformed()
    {
        yield return Text("not JSON", "hello there");
        yield return Text("empty", "");
        yield return Text("truncated", """{"model":"gpt-4o-mini","messages":[{"role":""");
        yield return Bytes("invalid UTF-8 in a string", [.. "{\"model\":\""u8, 0xC3, 0x28, .. "\"}"u8]);
        yield return Bytes("overlong UTF-8 encoding", [.. "{\"model\":\""u8, 0xC0, 0xAF, .. "\"}"u8]);
        yield return Text("lone high surrogate", """{"model":"\ud800","messages":[{"role":"user","content":"\ud800"}],"kind":"\ud800","tenant_id":"\ud800","name":"\ud800","input":{"model":"\ud800"}}""");
        yield return Text("lone low surrogate in a key", """{"\udc00":1}""");
        yield return Text("repeated keys", """{"model":"gpt-4o-mini","model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"input":1,"input":2,"name":"a","name":"b"}""");
        yield return Text("deep nesting", new string('[', 10_000) + new string(']', 10_000));
        yield return Text("deep objects", string.Concat(Enumerable.Repeat("{\"a\":", 5_000)) + "1" + new string('}', 5_000));
        yield return Text("a JSON array", "[1,2,3]");
        yield return Text("a JSON string", "\"hello\"");
        yield return Text("null", "null");
        yield return Text("wrong types everywhere",
            """{"model":5,"messages":"hi","input":[1],"kind":{},"tenant_id":7,"name":[],"requests_per_minute":"many","content":false,"system":3}""");
        yield return Text("huge numbers",
            """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"temperature":1e400,"max_tokens":99999999999999999999999999,"requests_per_minute":1e400,"tokens_per_minute":-1e400,"tenant_id":"t","name":"n","daily_cost_budget":1e400}""");
        yield return Text("NaN and Infinity tokens", """{"temperature":NaN,"top_p":Infinity}""");
        yield return Text("unknown fields only", """{"hello":"world","__proto__":{"admin":true}}""");
        yield return Text("a 900 000-character model name", $$"""{"model":"{{new string('x', 900_000)}}","messages":[{"role":"user","content":"x"}]}""");
        yield return Text("NUL characters", """{"model":"gpt-4o-mini\u0000","tenant_id":"t\u0000","name":"n\u0000","input":{"model":"\u0000"},"kind":"\u0000"}""");
        yield return Text("control characters unescaped", "{\"model\":\"a\u0001b\"}");
        yield return Text("trailing garbage", """{"model":"gpt-4o-mini"} trailing""");
        yield return Text("comments", """{/* hi */"model":"gpt-4o-mini"}""");
        yield return Text("byte order mark and spaces", "\uFEFF   ");
    }

    public static HostileBody Text(string name, string json, bool mustRefuse = true) =>
        new(name, () => new StringContent(json, Encoding.UTF8, "application/json"), mustRefuse);

    public static HostileBody Bytes(string name, byte[] bytes) =>
        new(name, () => new ByteArrayContent(bytes) { Headers = { ContentType = new("application/json") } });

    /// <summary>Sends one request and reads the whole answer; a timeout or reset is an answer too (status 0).</summary>
    public static async Task<HostileAnswer> SendAsync(HttpClient client, HttpMethod method, string path, HttpContent? content)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            using var request = new HttpRequestMessage(method, path) { Content = content };
            using var response = await client.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            return new HostileAnswer(response.StatusCode, response.Content.Headers.ContentType?.MediaType, body, started.Elapsed);
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
        {
            return new HostileAnswer(0, null, exception.GetType().Name + ": " + exception.Message, started.Elapsed);
        }
    }

    /// <summary>Why the answer is not the clear error it must be, or null when it is.</summary>
    public static string? Problem(HostileAnswer answer, bool speaksOpenAi, bool mustRefuse)
    {
        var status = (int)answer.Status;
        if (status == 0)
        {
            return $"no answer ({answer.Body}) after {answer.Elapsed.TotalSeconds:F1} s";
        }

        if (status >= 500 || (mustRefuse && status < 400))
        {
            return $"status {status}: {Excerpt(answer.Body)}";
        }

        return status < 400 ? null : ShapeProblem(answer, speaksOpenAi);
    }

    /// <summary>OpenAI's error object on OpenAI routes, ProblemDetails elsewhere.</summary>
    public static string? ShapeProblem(HostileAnswer answer, bool speaksOpenAi)
    {
        try
        {
            using var document = JsonDocument.Parse(answer.Body);
            var root = document.RootElement;
            if (speaksOpenAi)
            {
                return root.TryGetProperty("error", out var error) && error.TryGetProperty("message", out var message)
                    && message.ValueKind == JsonValueKind.String && error.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String
                    ? null : $"status {(int)answer.Status} without OpenAI's error shape: {Excerpt(answer.Body)}";
            }

            return answer.MediaType == "application/problem+json" && root.TryGetProperty("status", out var status) && status.GetInt32() == (int)answer.Status
                ? null : $"status {(int)answer.Status} without ProblemDetails ({answer.MediaType}): {Excerpt(answer.Body)}";
        }
        catch (JsonException)
        {
            return $"status {(int)answer.Status} with a body that is not JSON: {Excerpt(answer.Body)}";
        }
    }

    private static string Excerpt(string body) => body.Length <= 300 ? body : body[..300] + "…";
}
