using AspireLlm.Orchestration;
using Microsoft.Extensions.Configuration;

namespace AspireLlm.UnitTests.Orchestration;

public sealed class OrchestrationOptionsValidatorTests
{
    [Fact]
    public void Simulated_defaults_are_valid() =>
        Assert.True(new OrchestrationOptionsValidator().Validate(null, OrchestrationOptions.Simulated()).Succeeded);

    [Fact]
    public void Defaults_use_the_real_provider_only_when_its_key_is_configured()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Providers:OpenAI:ApiKey"] = "sk-test" })
            .Build();
        var options = new OrchestrationOptions();

        new DefaultRouting(configuration).PostConfigure(null, options);

        Assert.Equal(ProviderNames.OpenAI, options.Deployments[options.Models["gpt-4o-mini"].Groups[0].Deployments[0]].Provider);
        Assert.Equal(ProviderNames.Simulator, options.Deployments[options.Models["claude-sonnet"].Groups[0].Deployments[0]].Provider);
        Assert.True(new OrchestrationOptionsValidator(configuration).Validate(null, options).Succeeded);
    }

    [Fact]
    public void Each_failure_names_its_setting_and_never_a_key_value()
    {
        var configuration = new ConfigurationBuilder().Build();
        var options = new OrchestrationOptions
        {
            Deployments =
            {
                ["pigeon"] = new DeploymentOptions { Provider = "carrier-pigeon", Model = "coo" },
                ["azure"] = new DeploymentOptions { Provider = ProviderNames.AzureOpenAI, Model = "gpt", ApiKeySecret = "Secrets:Azure" },
                ["windowless"] = new DeploymentOptions { Provider = ProviderNames.Simulator, Model = "sim", ContextWindow = 0 },
            },
            Models =
            {
                ["fast"] = new ModelAliasOptions { Groups = [new DeploymentGroupOptions { Deployments = ["pigeon", "missing"] }] },
                ["empty"] = new ModelAliasOptions(),
            },
        };

        var result = new OrchestrationOptionsValidator(configuration).Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("Orchestration:Deployments:pigeon:Provider", result.FailureMessage);
        Assert.Contains("Orchestration:Deployments:azure:Endpoint is required", result.FailureMessage);
        Assert.Contains("Orchestration:Deployments:azure:ApiKeySecret points at 'Secrets:Azure', which is not set", result.FailureMessage);
        Assert.Contains("Orchestration:Models:fast:Groups:0:Deployments names 'missing'", result.FailureMessage);
        Assert.Contains("Orchestration:Models:empty:Groups must list at least one group", result.FailureMessage);
        Assert.Contains("Orchestration:Deployments:windowless:ContextWindow must be positive", result.FailureMessage);
    }
}
