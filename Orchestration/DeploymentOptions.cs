using System.ComponentModel.DataAnnotations;
using AspireLlm.Orchestration.Simulator;

namespace AspireLlm.Orchestration;

/// <summary>One model served by one provider endpoint, with its price and limits.</summary>
public sealed class DeploymentOptions
{
    /// <summary>One of <see cref="ProviderNames"/>.</summary>
    [Required]
    public string Provider { get; set; } = ProviderNames.Simulator;

    /// <summary>The model name sent to the provider (for Azure OpenAI, the deployment name).</summary>
    [Required]
    public string Model { get; set; } = "";

    /// <summary>Base URL; required for Azure OpenAI and OpenAI-compatible servers, optional otherwise.</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>
    /// The configuration key that holds the API key (for example <c>Providers:OpenAI:ApiKey</c>), never
    /// the key itself, so that settings files can be shared and keys come from secret stores.
    /// </summary>
    public string? ApiKeySecret { get; set; }

    /// <summary>US dollars per million prompt tokens.</summary>
    [Range(typeof(decimal), "0", "1000000")]
    public decimal InputPricePerMillion { get; set; }

    /// <summary>US dollars per million completion tokens.</summary>
    [Range(typeof(decimal), "0", "1000000")]
    public decimal OutputPricePerMillion { get; set; }

    /// <summary>Prompt plus completion tokens the model accepts.</summary>
    [Range(1, 100_000_000)]
    public int ContextWindow { get; set; } = 128_000;

    /// <summary>Completion tokens the model can produce; larger requests are clamped to it.</summary>
    [Range(1, 10_000_000)]
    public int MaxOutputTokens { get; set; } = 16_384;

    /// <summary>Limit for one attempt (for a stream: until the first chunk, then between chunks).</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Share of traffic under the weighted strategy.</summary>
    [Range(0, 1_000_000)]
    public int Weight { get; set; } = 1;

    /// <summary>Fault injection, used only by the simulator provider.</summary>
    public SimulatorFaults? Faults { get; set; }
}

public static class ProviderNames
{
    public const string Simulator = "simulator";
    public const string OpenAI = "openai";
    public const string AzureOpenAI = "azure-openai";
    public const string Anthropic = "anthropic";
    public const string OpenAICompatible = "openai-compatible";

    /// <summary>Embeddings computed in-process (all-MiniLM-L6-v2 on ONNX Runtime); no chat, no key, no network.</summary>
    public const string Local = "local";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal)
    {
        Simulator, OpenAI, AzureOpenAI, Anthropic, OpenAICompatible, Local,
    };
}
