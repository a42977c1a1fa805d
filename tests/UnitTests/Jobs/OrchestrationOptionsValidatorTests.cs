using AspireLlm.Orchestration;

namespace AspireLlm.UnitTests.Jobs;

public sealed class OrchestrationOptionsValidatorTests
{
    [Fact]
    public void Defaults_are_valid() =>
        Assert.True(new OrchestrationOptionsValidator().Validate(null, new OrchestrationOptions()).Succeeded);

    [Fact]
    public void Unknown_provider_fails_naming_the_setting()
    {
        var options = new OrchestrationOptions
        {
            Models = new() { ["fast"] = new ModelRoute { Provider = "carrier-pigeon", Model = "coo" } },
        };

        var result = new OrchestrationOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("Orchestration:Models:fast:Provider", result.FailureMessage);
    }
}
