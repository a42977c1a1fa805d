using AspireLlm.Orchestration;
using AspireLlm.Orchestration.Resilience;
using AspireLlm.Orchestration.Routing;
using AspireLlm.Orchestration.Telemetry;
using AspireLlm.Tests.Shared;
using AspireLlm.Tests.Shared.FakeProviders;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace AspireLlm.ServiceTests.Pipeline;

/// <summary>
/// Two fake providers on loopback (one speaking OpenAI's protocol, one Anthropic's) and pipelines
/// built over them from configuration, the way the Api and Worker build theirs.
/// </summary>
public sealed class ProviderFixture : IAsyncLifetime
{
    public const string OpenAiKey = "sk-openai-test-key-1234567890";
    public const string AnthropicKey = "sk-ant-test-key-1234567890";

    public FakeProviderServer OpenAi { get; private set; } = null!;

    public FakeProviderServer Anthropic { get; private set; } = null!;

    public IConfiguration Configuration { get; } = new ConfigurationBuilder()
        .AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Secrets:OpenAI"] = OpenAiKey,
            ["Secrets:Anthropic"] = AnthropicKey,
        })
        .Build();

    public async Task InitializeAsync()
    {
        OpenAi = await FakeProviderServer.StartAsync();
        Anthropic = await FakeProviderServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await OpenAi.DisposeAsync();
        await Anthropic.DisposeAsync();
    }

    /// <summary>
    /// Alias "chat": group 1 = OpenAI deployment "primary", group 2 = Anthropic deployment "backup".
    /// Short delays so real-time tests stay quick.
    /// </summary>
    public OrchestrationOptions Options(Action<OrchestrationOptions>? configure = null)
    {
        var options = new OrchestrationOptions
        {
            Deployments =
            {
                ["primary"] = new DeploymentOptions
                {
                    Provider = ProviderNames.OpenAI, Model = "gpt-4o-mini", Endpoint = OpenAi.OpenAiEndpoint, ApiKeySecret = "Secrets:OpenAI",
                    InputPricePerMillion = 0.15m, OutputPricePerMillion = 0.60m, AttemptTimeout = TimeSpan.FromSeconds(5),
                },
                ["backup"] = new DeploymentOptions
                {
                    Provider = ProviderNames.Anthropic, Model = "claude-sonnet-4-5", Endpoint = Anthropic.BaseAddress, ApiKeySecret = "Secrets:Anthropic",
                    InputPricePerMillion = 3m, OutputPricePerMillion = 15m, AttemptTimeout = TimeSpan.FromSeconds(5), MaxOutputTokens = 1024,
                },
            },
            Models =
            {
                ["chat"] = new ModelAliasOptions
                {
                    Groups =
                    [
                        new DeploymentGroupOptions { Deployments = ["primary"] },
                        new DeploymentGroupOptions { Deployments = ["backup"] },
                    ],
                },
            },
            Resilience = new ResilienceOptions
            {
                MaxRetries = 2,
                BaseDelay = TimeSpan.FromMilliseconds(20),
                MaxDelay = TimeSpan.FromMilliseconds(200),
                Breaker = new BreakerOptions { ConsecutiveFailures = 50, MinimumThroughput = 50, BreakDuration = TimeSpan.FromSeconds(1) },
            },
        };
        configure?.Invoke(options);
        return options;
    }

    public ModelCatalog Catalog(OrchestrationOptions options, IConnectionMultiplexer? redis = null, SharedBreakerBoard? board = null) =>
        TestPipelines.Catalog(options, redis: redis, board: board, configuration: Configuration);

    public static SharedBreakerBoard Board(IConnectionMultiplexer redis) =>
        new(redis, new OrchestrationTelemetry(), NullLogger<SharedBreakerBoard>.Instance, TimeProvider.System) { PollInterval = TimeSpan.FromMilliseconds(200) };
}
