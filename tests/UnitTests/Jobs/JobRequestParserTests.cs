using System.Text.Json;
using AspireLlm.Api.Jobs;
using AspireLlm.Orchestration;
using AspireLlm.Orchestration.Jobs;
using AspireLlm.Orchestration.Routing;
using AspireLlm.Tests.Shared;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace AspireLlm.UnitTests.Jobs;

public sealed class JobRequestParserTests
{
    private readonly JobRequestParser _parser = new(
        TestPipelines.Catalog(),
        new ConfigurationBuilder().Build());

    private (JobRequest? Request, Dictionary<string, string[]> Errors) Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return _parser.Parse(document.RootElement);
    }

    [Fact]
    public void Valid_request_is_parsed_with_its_parameters()
    {
        var (request, errors) = Parse("""
            {"kind":"chat.completion","input":{"model":"gpt-4o-mini","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}],
             "temperature":0.2,"max_tokens":50,"seed":7,"stop":["\n"]}}
            """);

        Assert.Empty(errors);
        Assert.Equal("chat.completion", request!.Kind);
        var input = request.Input.Deserialize<ChatCompletionInput>()!;
        var options = input.ToChatOptions();
        Assert.Equal(0.2f, options.Temperature);
        Assert.Equal(50, options.MaxOutputTokens);
        Assert.Equal(7, options.Seed);
        Assert.Equal(["\n"], options.StopSequences!);
        Assert.Equal(2, input.ToChatMessages().Count);
    }

    [Fact]
    public void Every_invalid_field_is_reported_at_once()
    {
        var (request, errors) = Parse("""
            {"kind":"chat.completion","input":{"model":"nope","messages":[{"role":"user"},{"content":"x"}],"top_p":3,"max_tokens":0,"stop":["a","b","c","d","e"]}}
            """);

        Assert.Null(request);
        Assert.Equal(
            ["input.max_tokens", "input.messages[0].content", "input.messages[1].role", "input.model", "input.stop", "input.top_p"],
            errors.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Wrong_types_name_the_field()
    {
        var (_, errors) = Parse("""{"kind":"chat.completion","input":{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"temperature":"hot"}}""");
        Assert.Contains("input.temperature", errors.Keys);
    }

    [Theory]
    [InlineData("ftp://example.com/hook")]
    [InlineData("http://127.0.0.1/hook")]
    [InlineData("http://localhost:8080/hook")]
    [InlineData("http://10.1.2.3/hook")]
    [InlineData("http://169.254.169.254/latest/meta-data")]
    [InlineData("http://[::1]/hook")]
    [InlineData("https://user:pass@example.com/hook")]
    [InlineData("not a url")]
    public void Webhook_urls_to_private_or_odd_destinations_are_refused(string url)
    {
        var body = """{"kind":"chat.completion","webhook_url":"URL","input":{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]}}""";
        var (_, errors) = Parse(body.Replace("URL", url));
        Assert.Contains("webhook_url", errors.Keys);
    }

    [Fact]
    public void Batch_requests_are_validated_item_by_item()
    {
        var (request, errors) = Parse("""
            {"kind":"batch","input":{"max_concurrency":99,"requests":[{"model":"gpt-4o-mini","messages":[{"role":"user","content":"ok"}]},{"model":"nope","messages":[]}]}}
            """);

        Assert.Null(request);
        Assert.Equal(["input.max_concurrency", "input.requests[1].messages", "input.requests[1].model"], errors.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_non_object_body_is_rejected()
    {
        var (_, errors) = Parse("[1,2,3]");
        Assert.Contains("$", errors.Keys);
    }
}
