using AspireLlm.Orchestration.Simulator;
using AspireLlm.Tests.Shared;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Time.Testing;

namespace AspireLlm.UnitTests.Simulator;

public sealed class SimulatorChatClientTests
{
    private static readonly ChatMessage[] Hello = [new(ChatRole.User, "Hello there")];

    [Fact]
    public async Task Answer_is_a_fixed_function_of_model_and_messages()
    {
        using var client = new SimulatorChatClient(new SimulatorOptions(), TimeProvider.System, "sim-gpt-4o-mini");

        var first = await client.GetResponseAsync(Hello);
        var second = await client.GetResponseAsync(Hello);

        Assert.Equal(SimulatorGolden.HelloThere, first.Text);
        Assert.Equal(first.Text, second.Text);
        Assert.Equal(first.ResponseId, second.ResponseId);
    }

    [Fact]
    public async Task Different_input_or_model_gives_a_different_answer()
    {
        using var client = new SimulatorChatClient(new SimulatorOptions(), TimeProvider.System, "sim-gpt-4o-mini");

        var hello = await client.GetResponseAsync(Hello);
        var other = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hello there!")]);
        var otherModel = await client.GetResponseAsync(Hello, new ChatOptions { ModelId = "sim-claude-sonnet" });
        var asSystem = await client.GetResponseAsync([new ChatMessage(ChatRole.System, "Hello there")]);

        Assert.NotEqual(hello.Text, other.Text);
        Assert.NotEqual(hello.Text, otherModel.Text);
        Assert.NotEqual(hello.Text, asSystem.Text);
    }

    [Fact]
    public async Task Stream_concatenates_to_the_same_answer_and_ends_with_usage()
    {
        using var client = new SimulatorChatClient(new SimulatorOptions(), TimeProvider.System, "sim-gpt-4o-mini");

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync(Hello))
        {
            updates.Add(update);
        }

        Assert.Equal(SimulatorGolden.HelloThere, string.Concat(updates.Select(u => u.Text)));
        var usage = updates[^1].Contents.OfType<UsageContent>().Single().Details;
        Assert.Equal(SimulatorGolden.HelloThere.Split(' ').Length, usage.OutputTokenCount);
        Assert.Equal(ChatFinishReason.Stop, updates[^1].FinishReason);
        Assert.True(updates.Count > 2, "a stream must arrive in several chunks");
    }

    [Fact]
    public async Task Max_output_tokens_truncates_with_finish_reason_length()
    {
        using var client = new SimulatorChatClient(new SimulatorOptions(), TimeProvider.System, "sim-gpt-4o-mini");

        var response = await client.GetResponseAsync(Hello, new ChatOptions { MaxOutputTokens = 3 });

        Assert.Equal("basalt fjord fjord", response.Text);
        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(3, response.Usage?.OutputTokenCount);
    }

    [Fact]
    public async Task Latency_and_token_rate_follow_the_clock()
    {
        var time = new FakeTimeProvider();
        using var client = new SimulatorChatClient(new SimulatorOptions { LatencyMs = 500, TokensPerSecond = 10 }, time, "sim-gpt-4o-mini");
        var stream = client.GetStreamingResponseAsync(Hello).GetAsyncEnumerator();

        var first = stream.MoveNextAsync().AsTask();
        Assert.False(first.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(499));
        Assert.False(first.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(await first);
        Assert.Equal("basalt", stream.Current.Text);

        var second = stream.MoveNextAsync().AsTask();
        Assert.False(second.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.True(await second);
        Assert.Equal(" fjord", stream.Current.Text);
        await stream.DisposeAsync();
    }

    [Fact]
    public async Task Cancellation_stops_the_wait_at_once()
    {
        var time = new FakeTimeProvider();
        using var client = new SimulatorChatClient(new SimulatorOptions { LatencyMs = 60_000 }, time);
        using var cancellation = new CancellationTokenSource();

        var call = client.GetResponseAsync(Hello, cancellationToken: cancellation.Token);
        cancellation.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
    }
}
