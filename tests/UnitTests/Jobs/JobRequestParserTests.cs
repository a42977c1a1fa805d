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
        Assert.Equal([new JobModel("input.model", "gpt-4o-mini")], request.Models);
        var input = JobInputs.Chat(request.Input);
        Assert.Equal(0.2f, input.Options.Temperature);
        Assert.Equal(50, input.Options.MaxOutputTokens);
        Assert.Equal(7, input.Options.Seed);
        Assert.Equal(["\n"], input.Options.StopSequences!);
        Assert.Equal(2, input.Messages.Count);
    }

    [Theory]
    [InlineData("""{"model":"nope","messages":[{"role":"user","content":"x"}]}""", "input.model")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user"}]}""", "input.messages[0].content")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"content":"x"}]}""", "input.messages[0].role")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"top_p":3}""", "input.top_p")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"max_tokens":0}""", "input.max_tokens")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"stop":["a","b","c","d","e"]}""", "input.stop")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"temperature":"hot"}""", "input.temperature")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"temprature":0}""", "input.temprature")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"../../etc","parameters":{}}}]}""", "input.tools[0].function.name")]
    public void An_input_is_held_to_the_chat_completion_rules_with_the_field_named(string input, string field)
    {
        var (request, errors) = Parse($$"""{"kind":"chat.completion","input":{{input}}}""");

        Assert.Null(request);
        Assert.Equal([field], errors.Keys);
    }

    [Fact]
    public void An_unknown_envelope_field_is_refused_not_ignored()
    {
        var (request, errors) = Parse("""
            {"kind":"chat.completion","webhook":"https://example.com/hook","input":{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]}}
            """);

        Assert.Null(request);
        Assert.Equal(["webhook"], errors.Keys);
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
        Assert.Equal(["input.max_concurrency"], errors.Keys);
    }

    [Fact]
    public void Each_batch_request_reports_its_own_first_error()
    {
        var (request, errors) = Parse("""
            {"kind":"batch","input":{"requests":[{"model":"gpt-4o-mini","messages":[{"role":"user","content":"ok"}]},{"model":"gpt-4o-mini","messages":[]},{"model":"x","messages":[{"role":"user","content":"ok"}],"n":2}]}}
            """);

        Assert.Null(request);
        Assert.Equal(["input.requests[1].messages", "input.requests[2].n"], errors.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Unknown_batch_models_are_named_by_item()
    {
        var (request, errors) = Parse("""
            {"kind":"batch","input":{"requests":[{"model":"gpt-4o-mini","messages":[{"role":"user","content":"ok"}]},{"model":"nope","messages":[{"role":"user","content":"ok"}]}]}}
            """);

        Assert.Null(request);
        Assert.Equal(["input.requests[1].model"], errors.Keys);
    }

    [Fact]
    public void A_non_object_body_is_rejected()
    {
        var (_, errors) = Parse("[1,2,3]");
        Assert.Contains("$", errors.Keys);
    }
}
