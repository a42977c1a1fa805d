using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AspireLlm.Orchestration;
using AspireLlm.Orchestration.Caching;
using AspireLlm.Orchestration.Jobs.Events;
using AspireLlm.Orchestration.Pipeline;
using AspireLlm.ServiceTests.Api;
using AspireLlm.ServiceTests.Gateway;
using AspireLlm.ServiceTests.Worker;
using AspireLlm.Tests.Shared;
using Microsoft.Extensions.AI;
using StackExchange.Redis;

namespace AspireLlm.ServiceTests.AtRest;

/// <summary>Each kind of content Redis holds is ciphertext there, and reads back whole where it is used.</summary>
[Collection(ServiceCollection.Name)]
public sealed class RedisAtRestTests(LocalInfrastructure infrastructure) : ApiAndWorkerTest(infrastructure)
{
    [Fact]
    public async Task Token_events_are_ciphertext_in_the_list_and_on_the_channel_and_stream_in_clear_to_the_client()
    {
        using var client = await Api.CreateTenantClientAsync("tenant-at-rest-events");
        var id = await client.SubmitAsync(JobRequests.Chat("Hello there"));
        var published = new ConcurrentQueue<byte[]>();
        var channel = await Worker.Redis.GetSubscriber().SubscribeAsync(JobEventLog.Channel(id));
        channel.OnMessage(message => published.Enqueue((byte[])message.Message!));

        await Worker.ChatJob().RunAsync(id, await Worker.DispatchIdAsync(id), CancellationToken.None);

        var stored = await Worker.Redis.GetDatabase().ListRangeAsync(JobEventLog.ListKey(id));
        await ChatCompletionJobTests.WaitUntilAsync(() => Task.FromResult(published.Count == stored.Length - 1)); // "pending" came before the subscription
        await channel.UnsubscribeAsync();
        var events = await ReadEventsAsync(client, id);
        var answer = string.Concat(events.Where(e => e.Type == "token").Select(e => e.Data.GetProperty("text").GetString()));
        var words = answer.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(word => word.Length >= 4).Distinct().ToArray();

        Assert.Equal(SimulatorGolden.HelloThere, answer);
        Assert.Contains(events, e => e.Type == "token");
        Assert.All(stored, value => RawStorage.AssertSealed((byte[])value!, "k1", ["\"token\"", "\"text\"", .. words]));
        Assert.All(published, message =>
        {
            var space = Array.IndexOf(message, (byte)' ');
            Assert.True(long.TryParse(Encoding.ASCII.GetString(message, 0, space), out _));
            RawStorage.AssertSealed(message[(space + 1)..], "k1", ["\"token\"", "\"text\"", .. words]);
        });
    }

    [Fact]
    public async Task A_cached_answer_is_ciphertext_in_redis_and_is_served_from_there()
    {
        var chat = TestPipelines.Catalog(OrchestrationOptions.Simulated(), redis: Worker.Redis).GetChatClient("gpt-4o-mini");
        ChatMessage[] prompt = [new(ChatRole.User, $"Cache this {Guid.NewGuid()}")];
        var before = await Worker.Redis.KeysAsync(CacheKey.Prefix + "*");

        var first = await chat.GetResponseAsync(prompt, new ChatOptions { Temperature = 0 }.WithCallContext(new ModelCallContext("tenant-cache")));
        string? key = null;
        await ChatCompletionJobTests.WaitUntilAsync(async () =>
            (key = (await Worker.Redis.KeysAsync(CacheKey.Prefix + "*")).Except(before).Select(found => (string?)found).FirstOrDefault()) is not null);
        var hit = new ModelCallContext("tenant-cache");
        var second = await chat.GetResponseAsync(prompt, new ChatOptions { Temperature = 0 }.WithCallContext(hit));

        RawStorage.AssertSealed(await Worker.Redis.GetDatabase().StringGetAsync(key), "k1", first.Text, "\"messages\"");
        Assert.Equal(CacheOutcome.Hit, hit.Cache);
        Assert.Equal(first.Text, second.Text);
    }

    [Fact]
    public async Task An_idempotent_replay_body_is_ciphertext_in_redis_and_replays_whole()
    {
        using var client = await Api.CreateTenantClientAsync("tenant-at-rest-idem");
        var body = ChatRequests.Body($"Replay me {Guid.NewGuid()}");
        var before = await Worker.Redis.KeysAsync("aspirellm:idem:chat:*");

        using var first = await client.PostChatAsync(body, idempotencyKey: "at-rest-1");
        var answer = await first.Content.ReadAsStringAsync();
        using var replay = await client.PostChatAsync(body, idempotencyKey: "at-rest-1");

        var key = Assert.Single((await Worker.Redis.KeysAsync("aspirellm:idem:chat:*")).Except(before));
        var raw = (string)(await Worker.Redis.GetDatabase().StringGetAsync(key))!;
        var stored = JsonDocument.Parse(raw).RootElement;
        var content = RawStorage.AnswerOf(JsonDocument.Parse(answer).RootElement);
        Assert.DoesNotContain(content, raw, StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, stored.GetProperty("Body").ValueKind);
        RawStorage.AssertSealed(stored.GetProperty("SealedBody").GetBytesFromBase64(), "k1", content);
        Assert.Equal("true", replay.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(answer, await replay.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_conversation_cache_holds_only_ciphertext()
    {
        using var client = await Api.CreateTenantClientAsync("tenant-at-rest-conv");
        using var created = await client.PostAsJsonAsync("/v1/conversations", new { model = "gpt-4o-mini", system = "Mind the mango-19c4." });
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        using var turn = await client.PostAsJsonAsync($"/v1/conversations/{id}/messages", new { content = "Is mango-19c4 ripe?" });
        var history = await client.GetJsonAsync($"/v1/conversations/{id}");

        var cached = (string)(await Worker.Redis.GetDatabase().StringGetAsync($"aspirellm:conversation:{id:N}"))!;
        Assert.Equal(3, history.GetProperty("messages").GetArrayLength());
        Assert.Contains("mango-19c4", history.GetProperty("messages")[1].GetProperty("content").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("mango", cached, StringComparison.OrdinalIgnoreCase);
        var rows = JsonNode.Parse(cached[(cached.IndexOf('|') + 1)..])!["Rows"]!.AsArray();
        Assert.All(rows, row => Assert.Equal("k1", Orchestration.Encryption.ContentCipher.KeyIdOf(Convert.FromBase64String((string)row!["Content"]!))));
    }

    private static async Task<List<SseEvent>> ReadEventsAsync(HttpClient client, Guid id)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/jobs/{id}/events");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        return await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10));
    }
}
