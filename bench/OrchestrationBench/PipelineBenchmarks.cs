using AspireLlm.Orchestration;
using AspireLlm.Orchestration.Pipeline;
using AspireLlm.Orchestration.Routing;
using AspireLlm.Orchestration.Simulator;
using AspireLlm.Tests.Shared;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.AI;
using StackExchange.Redis;

namespace AspireLlm.OrchestrationBench;

/// <summary>
/// The in-process cost of one model call through the whole pipeline, with the simulator at zero
/// latency so the model costs (almost) nothing. The baseline is the simulator called directly;
/// a raw Redis GET of a cached answer's size is measured too, so the Redis round trip can be
/// taken out of the cache paths.
/// </summary>
[MemoryDiagnoser]
public class PipelineBenchmarks
{
    private static readonly ChatMessage[] Prompt = [new(ChatRole.User, "Summarise the quarterly report in three sentences, please.")];

    private ServerProcess _redisServer = null!;
    private ConnectionMultiplexer _redis = null!;
    private SimulatorChatClient _simulator = null!;
    private IChatClient _chat = null!;
    private IChatClient _memoryChat = null!;
    private IChatClient _deadChat = null!;
    private long _seed;
    private RedisKey _cachedKey;

    [GlobalSetup]
    public void Setup()
    {
        var directory = Directory.CreateTempSubdirectory("aspirellm-bench-").FullName;
        (_redisServer, var connectionString) = ServerProcess.StartRedis(directory, preferGarnet: !ServerProcess.RedisServerInstalled);
        _redis = ConnectionMultiplexer.Connect(connectionString);

        var options = OrchestrationOptions.Simulated();
        options.Deployments["dead"] = new DeploymentOptions { Provider = ProviderNames.Simulator, Model = "sim-dead" };
        options.Models["dead"] = new ModelAliasOptions { Groups = [new DeploymentGroupOptions { Deployments = ["dead"] }] };
        var catalog = TestPipelines.Catalog(options, redis: _redis);
        _chat = catalog.GetChatClient("gpt-4o-mini");
        _deadChat = catalog.GetChatClient("dead");
        catalog.GetRoute("dead").Groups[0].Deployments[0].Breaker.ApplyRemoteOpen(TimeSpan.FromDays(1));
        _memoryChat = TestPipelines.Catalog(options, cacheStore: new InMemoryAnswerStore()).GetChatClient("gpt-4o-mini");
        _memoryChat.GetResponseAsync(Prompt, Options(seed: 0, new ModelCallContext("bench"))).GetAwaiter().GetResult();
        _simulator = new SimulatorChatClient(options.Simulator, TimeProvider.System, "sim-gpt-4o-mini");

        // One answer in the cache for the hit path, and its key for the raw GET.
        _chat.GetResponseAsync(Prompt, Options(seed: 0, new ModelCallContext("bench"))).GetAwaiter().GetResult();
        Thread.Sleep(200);
        _cachedKey = AspireLlm.Orchestration.Caching.CacheKey.Compute("bench", "gpt-4o-mini", Prompt, new ChatOptions { Seed = 0 });
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _redis.Dispose();
        _redisServer.Dispose();
    }

    private static ChatOptions Options(long? seed, ModelCallContext context) =>
        new ChatOptions { Seed = seed, Temperature = seed is null ? 0.7f : null }.WithCallContext(context);

    [Benchmark(Baseline = true, Description = "simulator alone")]
    public Task<ChatResponse> Simulator() => _simulator.GetResponseAsync(Prompt, new ChatOptions { Temperature = 0.7f });

    [Benchmark(Description = "pipeline, cache bypassed (no Redis I/O)")]
    public Task<ChatResponse> PipelineNoCache() => _chat.GetResponseAsync(Prompt, Options(seed: null, new ModelCallContext("bench")));

    [Benchmark(Description = "pipeline, cache miss (in-memory store)")]
    public Task<ChatResponse> PipelineMemoryMiss() =>
        _memoryChat.GetResponseAsync(Prompt, Options(seed: Interlocked.Increment(ref _seed), new ModelCallContext("bench")));

    [Benchmark(Description = "pipeline, cache hit (in-memory store)")]
    public Task<ChatResponse> PipelineMemoryHit() => _memoryChat.GetResponseAsync(Prompt, Options(seed: 0, new ModelCallContext("bench")));

    [Benchmark(Description = "pipeline, cache miss (1 Redis GET + SET)")]
    public Task<ChatResponse> PipelineCacheMiss() =>
        _chat.GetResponseAsync(Prompt, Options(seed: Interlocked.Increment(ref _seed), new ModelCallContext("bench")));

    [Benchmark(Description = "pipeline, cache hit (1 Redis GET)")]
    public Task<ChatResponse> PipelineCacheHit() => _chat.GetResponseAsync(Prompt, Options(seed: 0, new ModelCallContext("bench")));

    [Benchmark(Description = "open breaker, fast fail")]
    public async Task<string> OpenBreaker()
    {
        try
        {
            await _deadChat.GetResponseAsync(Prompt, Options(seed: null, new ModelCallContext("bench")));
            return "answered";
        }
        catch (ModelUnavailableException exception)
        {
            return exception.Alias;
        }
    }

    [Benchmark(Description = "raw Redis GET of a cached answer")]
    public Task<RedisValue> RedisGet() => _redis.GetDatabase().StringGetAsync(_cachedKey);
}
