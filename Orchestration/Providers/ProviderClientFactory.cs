using System.ClientModel;
using System.ClientModel.Primitives;
using System.Runtime.CompilerServices;
using Anthropic;
using AspireLlm.Orchestration.Simulator;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using OpenAI;

namespace AspireLlm.Orchestration.Providers;

/// <summary>
/// Creates the bare <see cref="IChatClient"/> for a deployment: the provider's official SDK behind
/// Microsoft.Extensions.AI, with the SDK's own retries turned off (the pipeline owns the only retry
/// layer) and no client-side HTTP timeout (the pipeline's attempt timeout governs).
/// </summary>
internal sealed class ProviderClientFactory(IConfiguration configuration, SimulatorOptions simulator, TimeProvider timeProvider)
{
    public IChatClient Create(string name, DeploymentOptions deployment) => deployment.Provider switch
    {
        ProviderNames.Simulator => new SimulatorChatClient(simulator, timeProvider, deployment.Model, deployment.Faults ?? simulator.Faults),
        ProviderNames.Anthropic => Anthropic(deployment, ApiKeyOf(name, deployment)),
        ProviderNames.Local => throw new InvalidOperationException($"Deployment '{name}' is a local embedding model, which serves no chat."),
        _ => OpenAi(name, deployment).GetChatClient(deployment.Model).AsIChatClient(),
    };

    public IEmbeddingGenerator<string, Embedding<float>> CreateEmbeddings(string name, DeploymentOptions deployment) => deployment.Provider switch
    {
        ProviderNames.Simulator => new Embeddings.SimulatorEmbeddingGenerator(deployment.Model),
        ProviderNames.Local => new Embeddings.LocalMiniLmEmbeddingGenerator(deployment.Model),
        ProviderNames.Anthropic => throw new InvalidOperationException($"Deployment '{name}' is Anthropic's, which serves no embeddings."),
        _ => OpenAi(name, deployment).GetEmbeddingClient(deployment.Model).AsIEmbeddingGenerator(),
    };

    /// <summary>OpenAI, Azure OpenAI (its v1 API) and OpenAI-compatible servers all speak through the OpenAI client.</summary>
    private OpenAIClient OpenAi(string name, DeploymentOptions deployment) => deployment.Provider switch
    {
        ProviderNames.OpenAI => OpenAi(deployment.Endpoint, ApiKeyOf(name, deployment), azure: false),
        ProviderNames.OpenAICompatible => OpenAi(deployment.Endpoint, OptionalApiKeyOf(deployment) ?? "unused", azure: false),
        ProviderNames.AzureOpenAI => OpenAi(new Uri(deployment.Endpoint!, "openai/v1/"), ApiKeyOf(name, deployment), azure: true),
        _ => throw new InvalidOperationException($"Deployment '{name}' names provider '{deployment.Provider}', which is not supported."),
    };

    private OpenAIClient OpenAi(Uri? endpoint, string apiKey, bool azure)
    {
        var options = new OpenAIClientOptions
        {
            Endpoint = endpoint,
            Transport = new HttpClientPipelineTransport(CreateHttpClient()),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = Timeout.InfiniteTimeSpan,
        };
        if (azure)
        {
            options.AddPolicy(new AzureApiKeyPolicy(apiKey), PipelinePosition.BeforeTransport);
        }

        return new OpenAIClient(new ApiKeyCredential(apiKey), options);
    }

    // Not inlined into Create: a process with no Anthropic deployment then never loads the SDK (about 5 MiB).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private IChatClient Anthropic(DeploymentOptions deployment, string apiKey)
    {
        var options = new global::Anthropic.Core.ClientOptions
        {
            ApiKey = apiKey,
            MaxRetries = 0,
            HttpClient = CreateHttpClient(),
            Timeout = Timeout.InfiniteTimeSpan,
        };
        if (deployment.Endpoint is { } endpoint)
        {
            options.BaseUrl = endpoint.ToString().TrimEnd('/');
        }

        return new AnthropicClient(options).AsIChatClient(deployment.Model, deployment.MaxOutputTokens);
    }

    private HttpClient CreateHttpClient() =>
        new(new ProviderErrorHandler(timeProvider)
        {
            // Long-lived clients must still notice DNS changes of the provider's endpoint.
            // ResponseDrainTimeout zero: a cancelled stream closes its connection at once, so the
            // provider stops generating (and billing) now rather than after a 2 s drain.
            InnerHandler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), ResponseDrainTimeout = TimeSpan.Zero },
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };

    private string ApiKeyOf(string name, DeploymentOptions deployment) =>
        OptionalApiKeyOf(deployment)
        ?? throw new InvalidOperationException($"Deployment '{name}' has no API key at '{deployment.ApiKeySecret}'.");

    private string? OptionalApiKeyOf(DeploymentOptions deployment) =>
        deployment.ApiKeySecret is { Length: > 0 } secret && configuration[secret] is { Length: > 0 } key ? key : null;
}
