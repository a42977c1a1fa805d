using System.Net;
using System.Text;
using Xunit.Abstractions;

namespace AspireLlm.ServiceTests.Hostile;

/// <summary>Malformed and hostile bodies on every JSON route of the real Api: each gets a clear 4xx in bounded time.</summary>
[Collection(HostileCollection.Name)]
public sealed class HostileBodyTests(HostileApi api, ITestOutputHelper output)
{
    [Fact]
    public async Task Every_json_route_refuses_malformed_bodies_in_its_error_shape()
    {
        var problems = new List<string>();
        foreach (var route in HostileRequests.JsonRoutes)
        {
            using var client = api.Client(route.Admin ? HostileApi.AdminKey : api.TenantKey);
            foreach (var body in HostileRequests.Malformed())
            {
                var answer = await HostileRequests.SendAsync(client, new HttpMethod(route.Method), api.Resolve(route.Path), body.Content());
                if (HostileRequests.Problem(answer, route.SpeaksOpenAi, body.MustRefuse) is { } problem)
                {
                    problems.Add($"{route} with {body}: {problem}");
                }
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
        Assert.Empty(api.HealthProblems);
    }

    [Theory]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"../../etc","parameters":{}}}]}""", "tools[0].function.name")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"ok","parameters":5}}]}""", "tools[0].function.parameters")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"ok","parameters":{"$ref":"http://169.254.169.254/"}}}]}""", "tools[0].function.parameters")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"s","schema":{"type":"nonsense","$ref":"http://169.254.169.254/"}}}}""", "response_format.json_schema.schema")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"s","schema":{"type":"nonsense"}}}}""", "response_format.json_schema.schema")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"s","schema":{"type":"object","minProperties":-1}}}}""", "response_format.json_schema.schema")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"a b","schema":{}}}}""", "response_format.json_schema.name")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{\"a\":1,\"a\":2}"}}]}]}""", "messages[0].tool_calls[0].function.arguments")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"[1]"}}]}]}""", "messages[0].tool_calls[0].function.arguments")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"assistant","tool_calls":"x"}]}""", "messages[0].tool_calls")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":[{"type":"image_url","image_url":"x"}]}]}""", "messages[0].content[0].image_url")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"file:///etc/passwd"}}]}]}""", "messages[0].content[0].image_url.url")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"temperature":1e400}""", "temperature")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"max_tokens":1.5}""", "max_tokens")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"seed":123456789012345678901234567890}""", "seed")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"logit_bias":{"abc":500}}""", "logit_bias")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"metadata":{"k":5}}""", "metadata")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":"yes"}""", "stream_options")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"tool_choice":{"type":"function","function":{"name":"a/b"}}}""", "tool_choice.function.name")]
    public async Task Chat_requests_that_break_parsers_are_refused_with_the_parameter_named(string json, string param)
    {
        using var client = api.Client(api.TenantKey);
        var answer = await HostileRequests.SendAsync(client, HttpMethod.Post, "/v1/chat/completions", new StringContent(json, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Null(HostileRequests.ShapeProblem(answer, speaksOpenAi: true));
        Assert.Contains($"\"param\":\"{param}\"", answer.Body, StringComparison.Ordinal);

        // A job's input is held to the same rules, with the same parameter named under "input".
        var job = await HostileRequests.SendAsync(client, HttpMethod.Post, "/v1/jobs",
            new StringContent($$"""{"kind":"chat.completion","input":{{json}}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, job.Status);
        Assert.Contains($"\"input.{param}\"", job.Body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("x")]
    [InlineData("ab")]
    [InlineData(" ")]
    [InlineData("!?")]
    [InlineData("的")]
    [InlineData("7")]
    public async Task Long_unbroken_text_is_answered_promptly_on_every_route_that_counts_tokens(string unit)
    {
        // Just under the 1 MiB body limit, as UTF-8 and unescaped.
        var text = string.Concat(Enumerable.Repeat(unit, 900_000 / Encoding.UTF8.GetByteCount(unit)));
        var json = System.Text.Json.JsonSerializer.Serialize(text, new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        (string Path, string Body, bool OpenAi)[] requests =
        [
            ("/v1/chat/completions", $$"""{"model":"gpt-4o-mini","messages":[{"role":"user","content":{{json}}}],"max_tokens":5}""", true),
            ("/v1/chat/completions", $$"""{"model":"redacted","messages":[{"role":"user","content":{{json}}}],"max_tokens":5}""", true),
            ("/v1/embeddings", $$"""{"model":"text-embedding-3-small","input":{{json}}}""", true),
            ("/v1/jobs", $$$"""{"kind":"chat.completion","input":{"model":"gpt-4o-mini","messages":[{"role":"user","content":{{{json}}}}],"max_tokens":5}}""", false),
        ];

        using var client = api.Client(api.TenantKey);
        var problems = new List<string>();
        foreach (var (path, body, openAi) in requests)
        {
            var answer = await HostileRequests.SendAsync(client, HttpMethod.Post, path, new StringContent(body, Encoding.UTF8, "application/json"));
            output.WriteLine($"{path} ({unit} × {text.Length}): {(int)answer.Status} in {answer.Elapsed.TotalMilliseconds:F0} ms");
            if (HostileRequests.Problem(answer, openAi, mustRefuse: false) is { } problem)
            {
                problems.Add($"{path}: {problem}");
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
        Assert.Empty(api.HealthProblems);
    }

    [Theory]
    [InlineData("emoji and skin tones", "👩🏽‍💻🧑🏿‍🚀 family: 👨‍👩‍👧‍👦")]
    [InlineData("combining marks", "Z̷̢͍̪̑a̸̛̪͇l̶̨̙̓g̵̯̈́ͅo̶͍̤̔")]
    [InlineData("right-to-left and bidi controls", "שלום \u202Eevil\u202C مرحبا")]
    [InlineData("zero-width and private use", "a\u200Bb\u200Dc\uFEFFd\uE000\U000F0000")]
    [InlineData("astral plane", "𝕳𝖊𝖑𝖑𝖔 𓀀𓀁 🂡")]
    public async Task Odd_but_valid_unicode_is_served(string name, string content)
    {
        using var client = api.Client(api.TenantKey);
        var json = System.Text.Json.JsonSerializer.Serialize(content);
        var answer = await HostileRequests.SendAsync(client, HttpMethod.Post, "/v1/chat/completions",
            new StringContent($$"""{"model":"gpt-4o-mini","messages":[{"role":"user","content":{{json}}}],"user":{{json}}}""", Encoding.UTF8, "application/json"));

        Assert.True(answer.Status == HttpStatusCode.OK, $"{name}: {(int)answer.Status} {answer.Body}");
    }
}
