using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AspireLlm.Api.ApiKeys;
using AspireLlm.Orchestration.Admission;
using AspireLlm.ServiceTests.Api;
using AspireLlm.Tests.Shared;
using AspireLlm.Tests.Shared.FakeProviders;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Chat;
using StackExchange.Redis;

namespace AspireLlm.ServiceTests.Gateway;

/// <summary>
/// The gateway in front of an OpenAI-compatible upstream (a local fake), driven by the official
/// OpenAI .NET client as any user would: sync, streaming, tool calls; and the guarantees around the
/// provider call: idempotent replays, disconnects that cancel it.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class UpstreamTests(LocalInfrastructure infrastructure) : IAsyncLifetime
{
    private FakeProviderServer _upstream = null!;
    private ApiFactory _api = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeProviderServer.StartAsync();
        _api = new ApiFactory(infrastructure) { Settings = ApiFactory.WithUpstream(_upstream.OpenAiEndpoint) };
    }

    public async Task DisposeAsync()
    {
        await _api.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private async Task<ChatClient> OpenAiClientAsync(string model = "upstream")
    {
        var key = ApiKeyFormat.Generate();
        await _api.Services.GetRequiredService<ApiKeyStore>().EnsureAsync(key, "tenant-sdk", "sdk", false, CancellationToken.None);
        return new ChatClient(model, new ApiKeyCredential(key), new OpenAIClientOptions
        {
            Endpoint = new Uri(_api.Server.BaseAddress, "v1/"),
            Transport = new HttpClientPipelineTransport(_api.CreateClient()),
            RetryPolicy = new ClientRetryPolicy(0),
        });
    }

    [Fact]
    public async Task The_official_OpenAI_client_works_unchanged_sync_and_streaming()
    {
        var client = await OpenAiClientAsync("gpt-4o-mini");

        ChatCompletion completion = await client.CompleteChatAsync([new UserChatMessage("Hello there")]);
        var streamed = new System.Text.StringBuilder();
        ChatTokenUsage? usage = null;
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("Hello there")]))
        {
            streamed.Append(string.Concat(update.ContentUpdate.Select(part => part.Text)));
            usage ??= update.Usage;
        }

        Assert.Equal(SimulatorGolden.HelloThere, completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.True(completion.Usage.TotalTokenCount > 0);
        Assert.Equal(SimulatorGolden.HelloThere, streamed.ToString());
        Assert.NotNull(usage); // the client asks for usage in streams; the gateway sends it
    }

    [Fact]
    public async Task Tool_calls_pass_through_both_ways()
    {
        var client = await OpenAiClientAsync();
        _upstream.Enqueue(FakeReply.ToolCall("get_weather", """{"city":"Paris"}"""), FakeReply.Text("It is sunny in Paris."));
        var tool = ChatTool.CreateFunctionTool("get_weather", "Weather by city", BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"""));
        var options = new ChatCompletionOptions { Tools = { tool } };
        List<ChatMessage> messages = [new UserChatMessage("Weather in Paris?")];

        ChatCompletion first = await client.CompleteChatAsync(messages, options);
        var call = Assert.Single(first.ToolCalls);
        messages.Add(new AssistantChatMessage(first));
        messages.Add(new ToolChatMessage(call.Id, """{"sky":"sunny"}"""));
        ChatCompletion second = await client.CompleteChatAsync(messages, options);

        Assert.Equal(ChatFinishReason.ToolCalls, first.FinishReason);
        Assert.Equal("get_weather", call.FunctionName);
        Assert.Equal("Paris", JsonDocument.Parse(call.FunctionArguments).RootElement.GetProperty("city").GetString());
        Assert.Equal("It is sunny in Paris.", second.Content[0].Text);
        var sent = _upstream.Requests[1].Body;
        Assert.Equal("get_weather", sent.GetProperty("tools")[0].GetProperty("function").GetProperty("name").GetString());
        Assert.Contains(sent.GetProperty("messages").EnumerateArray(), m => m.GetProperty("role").GetString() == "tool");
    }

    [Fact]
    public async Task An_idempotent_repeat_replays_the_answer_without_calling_the_provider_or_charging_again()
    {
        using var client = await _api.CreateLimitedClientAsync("tenant-idem-" + Guid.NewGuid().ToString("N")[..6], new KeyLimits(RequestsPerMinute: 1000));
        var key = Guid.NewGuid().ToString();
        _upstream.Enqueue(FakeReply.Text("Exactly once."));

        using var first = await client.PostChatAsync(ChatRequests.Body(model: "upstream"), key);
        var firstBody = await first.Content.ReadAsStringAsync();
        using var repeat = await client.PostChatAsync(ChatRequests.Body(model: "upstream"), key);
        var repeatBody = await repeat.Content.ReadAsStringAsync();
        using var different = await client.PostChatAsync(ChatRequests.Body("something else", model: "upstream"), key);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(firstBody, repeatBody);
        Assert.Equal("true", repeat.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(1, _upstream.RequestCount);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, different.StatusCode);
    }

    [Fact]
    public async Task A_repeat_while_the_first_is_still_running_is_409()
    {
        using var client = await _api.CreateTenantClientAsync("tenant-idem");
        var key = Guid.NewGuid().ToString();
        _upstream.Enqueue(FakeReply.Slow(TimeSpan.FromSeconds(2), FakeReply.Text("Slowly.")));

        var first = client.PostChatAsync(ChatRequests.Body(model: "upstream"), key);
        await WaitUntilAsync(() => _upstream.RequestCount == 1);
        using var during = await client.PostChatAsync(ChatRequests.Body(model: "upstream"), key);
        using var firstResponse = await first;

        Assert.Equal(HttpStatusCode.Conflict, during.StatusCode);
        Assert.Equal(HttpStatusCode.OK, firstResponse.StatusCode);
    }

    [Fact]
    public async Task A_client_that_disconnects_cancels_the_provider_call_and_is_charged_for_what_was_produced()
    {
        var tenant = "tenant-gone-" + Guid.NewGuid().ToString("N")[..6];
        using var client = await _api.CreateLimitedClientAsync(tenant, new KeyLimits(DailyTokenBudget: 1_000_000));
        _upstream.Enqueue(FakeReply.SlowStream(string.Join(' ', Enumerable.Repeat("word", 200)), TimeSpan.FromMilliseconds(50)));
        using var cancellation = new CancellationTokenSource();

        using (var response = await client.PostChatAsync(ChatRequests.Body(model: "upstream", stream: true), cancellationToken: cancellation.Token))
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellation.Token));
            for (var lines = 0; lines < 10;)
            {
                if ((await reader.ReadLineAsync(cancellation.Token))?.StartsWith("data: ", StringComparison.Ordinal) == true)
                {
                    lines++;
                }
            }

            await cancellation.CancelAsync();
        }

        var aborted = await _upstream.WaitForAbortedRequestAsync(TimeSpan.FromSeconds(5));
        Assert.True(aborted.Aborted);

        // The settled budget shows the partial usage, and no reservation is left behind.
        var keyId = (await _api.Services.GetRequiredService<ApiKeyStore>().ListAsync(tenant, CancellationToken.None)).Single().Id;
        var budget = $"aspirellm:budget:key:{keyId:N}:tokens:d:{DateTime.UtcNow:yyyyMMdd}";
        await using var redis = await ConnectionMultiplexer.ConnectAsync(infrastructure.RedisConnectionString);
        HashEntry[] entries = [];
        await WaitUntilAsync(async () => (entries = await redis.GetDatabase().HashGetAllAsync(budget)).Any(e => e.Name == "spent" && (long)e.Value > 0));
        Assert.Equal(0, (long)entries.Single(e => e.Name == "reserved").Value);
        Assert.InRange((long)entries.Single(e => e.Name == "spent").Value, 10, 200);
    }

    private static async Task WaitUntilAsync(Func<bool> condition) => await WaitUntilAsync(() => Task.FromResult(condition()));

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met within 10 s");
            await Task.Delay(20);
        }
    }
}
