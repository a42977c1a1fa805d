using AspireLlm.Orchestration;
using AspireLlm.Orchestration.Agents;
using Microsoft.Extensions.Options;

namespace AspireLlm.UnitTests.Agents;

public sealed class DefaultAgentTests
{
    [Fact]
    public void A_fresh_install_offers_the_assistant_on_its_default_model()
    {
        var agents = new AgentOptions();

        new DefaultAgent(Options.Create(OrchestrationOptions.Simulated())).PostConfigure(null, agents);

        Assert.Equal(DefaultAgent.DefaultModel, agents.Definitions[DefaultAgent.Name].Model);
        Assert.True(Validate(OrchestrationOptions.Simulated(), agents).Succeeded);
    }

    [Fact]
    public void Models_of_the_deployment_own_without_the_default_alias_start_without_an_assistant()
    {
        var models = new OrchestrationOptions
        {
            Models = { ["house-model"] = new ModelAliasOptions() },
        };
        var agents = new AgentOptions();

        new DefaultAgent(Options.Create(models)).PostConfigure(null, agents);

        Assert.Empty(agents.Definitions);
        Assert.True(Validate(models, agents).Succeeded);
    }

    [Fact]
    public void An_assistant_that_was_configured_is_still_held_to_the_models_there_are()
    {
        var models = new OrchestrationOptions
        {
            Models = { ["house-model"] = new ModelAliasOptions() },
        };
        var agents = new AgentOptions { Definitions = { [DefaultAgent.Name] = new AgentDefinition { Instructions = "Be brief." } } };

        new DefaultAgent(Options.Create(models)).PostConfigure(null, agents);

        var result = Validate(models, agents);
        Assert.True(result.Failed);
        Assert.Contains("Agents:assistant:Model", result.FailureMessage);
    }

    private static ValidateOptionsResult Validate(OrchestrationOptions models, AgentOptions agents) =>
        new AgentOptionsValidator(Options.Create(models)).Validate(null, agents);
}
