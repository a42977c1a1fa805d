using AspireLlm.Api.ApiKeys;
using Microsoft.Extensions.Configuration;

namespace AspireLlm.UnitTests.ApiKeys;

public sealed class KeyDefaultsOptionsTests
{
    [Fact]
    public void Unset_settings_keep_the_defaults_and_an_empty_one_means_no_limit()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"{KeyDefaultsOptions.SectionName}:TokensPerMinute"] = "",
            [$"{KeyDefaultsOptions.SectionName}:DailyCostBudget"] = "2.5",
        }).Build();

        var limits = configuration.GetSection(KeyDefaultsOptions.SectionName).Get<KeyDefaultsOptions>()!.ToLimits();

        Assert.Equal(600, limits.RequestsPerMinute);
        Assert.Null(limits.TokensPerMinute);
        Assert.Equal(2.5m, limits.DailyCostBudget);
        Assert.Null(limits.MonthlyTokenBudget);
    }
}
