using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace AspireLlm.Orchestration;

/// <summary>
/// The routing a fresh install gets when <c>Orchestration:Models</c> is empty: two aliases, each
/// served by its real provider when that provider's key is configured and by the simulator when
/// not, so that F5 works with no secrets and adding a key is all it takes to go live.
/// A simulator is never a silent fallback for a real provider: it would answer with made-up text.
/// Embeddings without a key come from the local model, whose vectors carry meaning.
/// </summary>
internal sealed class DefaultRouting(IConfiguration configuration) : IPostConfigureOptions<OrchestrationOptions>
{
    public const string OpenAiKeySetting = "Providers:OpenAI:ApiKey";
    public const string AnthropicKeySetting = "Providers:Anthropic:ApiKey";

    /// <summary>The embedding alias served in-process by all-MiniLM-L6-v2, whatever keys are set.</summary>
    public const string LocalEmbeddingAlias = "all-minilm-l6-v2";
    public const string LocalEmbeddingDeployment = "local-all-minilm-l6-v2";

    public void PostConfigure(string? name, OrchestrationOptions options)
    {
        if (options.EmbeddingModels.Count == 0)
        {
            // The local model always has its own alias, which never changes meaning (a collection indexed with
            // it stays searchable whatever keys are added later); without a key it also serves the OpenAI name.
            options.Deployments.TryAdd(LocalEmbeddingDeployment, new DeploymentOptions
            {
                Provider = ProviderNames.Local, Model = Embeddings.LocalMiniLmEmbeddingGenerator.ModelName,
                ContextWindow = Embeddings.LocalMiniLmEmbeddingGenerator.MaxTokens, MaxOutputTokens = 1,
            });
            options.EmbeddingModels[LocalEmbeddingAlias] = new EmbeddingAliasOptions { Deployments = [LocalEmbeddingDeployment] };

            var embeddingName = LocalEmbeddingDeployment;
            if (HasKey(OpenAiKeySetting))
            {
                embeddingName = "openai-text-embedding-3-small";
                options.Deployments.TryAdd(embeddingName, new DeploymentOptions
                {
                    Provider = ProviderNames.OpenAI, Model = "text-embedding-3-small", ApiKeySecret = OpenAiKeySetting,
                    InputPricePerMillion = 0.02m, ContextWindow = 8_191, MaxOutputTokens = 1,
                });
            }

            options.EmbeddingModels["text-embedding-3-small"] = new EmbeddingAliasOptions { Deployments = [embeddingName] };
        }

        if (options.Models.Count > 0)
        {
            return;
        }

        Add(options, "gpt-4o-mini", "OpenAI's small fast model",
            HasKey(OpenAiKeySetting)
                ? ("openai-gpt-4o-mini", new() { Provider = ProviderNames.OpenAI, Model = "gpt-4o-mini", ApiKeySecret = OpenAiKeySetting })
                : ("sim-gpt-4o-mini", new() { Provider = ProviderNames.Simulator, Model = "sim-gpt-4o-mini" }),
            input: 0.15m, output: 0.60m, contextWindow: 128_000, maxOutput: 16_384);

        Add(options, "claude-sonnet", "Anthropic's balanced model",
            HasKey(AnthropicKeySetting)
                ? ("anthropic-claude-sonnet", new() { Provider = ProviderNames.Anthropic, Model = "claude-sonnet-4-5", ApiKeySecret = AnthropicKeySetting })
                : ("sim-claude-sonnet", new() { Provider = ProviderNames.Simulator, Model = "sim-claude-sonnet" }),
            input: 3m, output: 15m, contextWindow: 200_000, maxOutput: 8_192);
    }

    /// <summary>The defaults without any provider key: what tests and benchmarks start from.</summary>
    public static OrchestrationOptions Simulated()
    {
        var options = new OrchestrationOptions();
        new DefaultRouting(new ConfigurationBuilder().Build()).PostConfigure(null, options);
        return options;
    }

    private bool HasKey(string setting) => !string.IsNullOrWhiteSpace(configuration[setting]);

    private static void Add(
        OrchestrationOptions options, string alias, string description, (string Name, DeploymentOptions Deployment) served,
        decimal input, decimal output, int contextWindow, int maxOutput)
    {
        served.Deployment.InputPricePerMillion = input;
        served.Deployment.OutputPricePerMillion = output;
        served.Deployment.ContextWindow = contextWindow;
        served.Deployment.MaxOutputTokens = maxOutput;
        options.Deployments.TryAdd(served.Name, served.Deployment);
        options.Models[alias] = new ModelAliasOptions
        {
            Description = description,
            Groups = [new DeploymentGroupOptions { Deployments = [served.Name] }],
        };
    }
}
