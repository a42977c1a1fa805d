using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace AspireLlm.Orchestration;

/// <summary>Cross-field rules the DataAnnotations cannot express; each failure names the setting.</summary>
internal sealed class OrchestrationOptionsValidator(IConfiguration? configuration = null) : IValidateOptions<OrchestrationOptions>
{
    private static readonly HashSet<string> NeedEndpoint = [ProviderNames.AzureOpenAI, ProviderNames.OpenAICompatible];
    private static readonly HashSet<string> NeedKey = [ProviderNames.OpenAI, ProviderNames.AzureOpenAI, ProviderNames.Anthropic];

    public ValidateOptionsResult Validate(string? name, OrchestrationOptions options)
    {
        var failures = new List<string>();
        const string root = OrchestrationOptions.SectionName;
        if (options.Models.Count == 0)
        {
            failures.Add($"{root}:Models must name at least one model alias.");
        }

        foreach (var (deploymentName, deployment) in options.Deployments)
        {
            ValidateDeployment($"{root}:Deployments:{deploymentName}", deployment, failures);
        }

        foreach (var (alias, model) in options.Models)
        {
            ValidateAlias($"{root}:Models:{alias}", model, options, failures);
        }

        foreach (var (alias, model) in options.EmbeddingModels)
        {
            var setting = $"{root}:EmbeddingModels:{alias}:Deployments";
            if (model.Deployments.Count == 0)
            {
                failures.Add($"{setting} must name at least one deployment.");
            }

            foreach (var deployment in model.Deployments)
            {
                if (!options.Deployments.TryGetValue(deployment, out var found))
                {
                    failures.Add($"{setting} names '{deployment}', which is not under {root}:Deployments.");
                }
                else if (found.Provider == ProviderNames.Anthropic)
                {
                    failures.Add($"{setting} names '{deployment}', but Anthropic serves no embeddings.");
                }
            }
        }

        var resilience = options.Resilience;
        RequirePositive($"{root}:Resilience:DefaultDeadline", resilience.DefaultDeadline, failures);
        RequirePositive($"{root}:Resilience:BaseDelay", resilience.BaseDelay, failures);
        RequirePositive($"{root}:Resilience:Breaker:SamplingDuration", resilience.Breaker.SamplingDuration, failures);
        RequirePositive($"{root}:Resilience:Breaker:BreakDuration", resilience.Breaker.BreakDuration, failures);
        if (resilience.MaxDelay < resilience.BaseDelay)
        {
            failures.Add($"{root}:Resilience:MaxDelay must not be shorter than BaseDelay.");
        }

        RequirePositive($"{root}:Cache:Ttl", options.Cache.Ttl, failures);
        if (options.Cache.StaleTtl < options.Cache.Ttl)
        {
            failures.Add($"{root}:Cache:StaleTtl must not be shorter than Ttl.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private void ValidateDeployment(string setting, DeploymentOptions deployment, List<string> failures)
    {
        if (!ProviderNames.All.Contains(deployment.Provider))
        {
            failures.Add($"{setting}:Provider '{deployment.Provider}' is not one of: {string.Join(", ", ProviderNames.All)}.");
        }

        if (string.IsNullOrWhiteSpace(deployment.Model))
        {
            failures.Add($"{setting}:Model is required.");
        }

        if (deployment.Provider == ProviderNames.Local && deployment.Model != Embeddings.LocalMiniLmEmbeddingGenerator.ModelName)
        {
            failures.Add($"{setting}:Model must be '{Embeddings.LocalMiniLmEmbeddingGenerator.ModelName}', the one local model this build ships.");
        }

        if (NeedEndpoint.Contains(deployment.Provider) && deployment.Endpoint is null)
        {
            failures.Add($"{setting}:Endpoint is required for provider '{deployment.Provider}'.");
        }

        if (deployment.Endpoint is { IsAbsoluteUri: false })
        {
            failures.Add($"{setting}:Endpoint must be an absolute URL.");
        }

        if (NeedKey.Contains(deployment.Provider))
        {
            if (string.IsNullOrWhiteSpace(deployment.ApiKeySecret))
            {
                failures.Add($"{setting}:ApiKeySecret must name the configuration key that holds the API key.");
            }
            else if (configuration is not null && string.IsNullOrWhiteSpace(configuration[deployment.ApiKeySecret]))
            {
                // The key's value is never echoed; only where it was looked for.
                failures.Add($"{setting}:ApiKeySecret points at '{deployment.ApiKeySecret}', which is not set.");
            }
        }

        RequirePositive($"{setting}:AttemptTimeout", deployment.AttemptTimeout, failures);
        if (deployment.ContextWindow <= 0)
        {
            // Token counts stop at the window: a window of 0 would make every prompt count as none.
            failures.Add($"{setting}:ContextWindow must be positive.");
        }
        else if (deployment.MaxOutputTokens > deployment.ContextWindow)
        {
            failures.Add($"{setting}:MaxOutputTokens must not exceed ContextWindow.");
        }
    }

    private static void ValidateAlias(string setting, ModelAliasOptions model, OrchestrationOptions options, List<string> failures)
    {
        if (model.Groups.Count == 0)
        {
            failures.Add($"{setting}:Groups must list at least one group of deployments.");
        }

        for (var i = 0; i < model.Groups.Count; i++)
        {
            var group = model.Groups[i];
            if (group.Deployments.Count == 0)
            {
                failures.Add($"{setting}:Groups:{i}:Deployments must name at least one deployment.");
            }

            foreach (var deployment in group.Deployments)
            {
                if (!options.Deployments.TryGetValue(deployment, out var found))
                {
                    failures.Add($"{setting}:Groups:{i}:Deployments names '{deployment}', which is not under {OrchestrationOptions.SectionName}:Deployments.");
                }
                else if (found.Provider == ProviderNames.Local)
                {
                    failures.Add($"{setting}:Groups:{i}:Deployments names '{deployment}', a local embedding model, which serves no chat.");
                }
                else if (group.Strategy == RoutingStrategy.Weighted && found.Weight <= 0)
                {
                    failures.Add($"{setting}:Groups:{i} is weighted but deployment '{deployment}' has no positive Weight.");
                }
            }
        }
    }

    private static void RequirePositive(string setting, TimeSpan value, List<string> failures)
    {
        if (value <= TimeSpan.Zero)
        {
            failures.Add($"{setting} must be positive.");
        }
    }
}
